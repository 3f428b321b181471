using System.Net.Sockets;
using Xares.Protos.Sidecar.V1;

namespace Xares.Sidecar.Local;

/// <summary>The client side of the sidecar socket, for `status`, `install` and `bootstrap`.</summary>
internal static class LocalSocketClient
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    /// <param name="verifyPeer">Checks the connected server before the request (and any secret in it) is sent.</param>
    public static async Task<SidecarResponse> SendAsync(
        string socketPath,
        SidecarRequest request,
        Action<Socket>? verifyPeer,
        CancellationToken cancellationToken,
        TimeSpan? timeout = null)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        return await ExchangeAsync(socket, socketPath, request, verifyPeer, timeout ?? DefaultTimeout, cancellationToken);
    }

    /// <summary>
    /// Sends a request whose answer lives as long as the connection (OpenProxy): the caller keeps the
    /// returned socket open for as long as it needs what it asked for, and disposes it to end it.
    /// </summary>
    public static async Task<(SidecarResponse Response, Socket Connection)> SendAndHoldAsync(
        string socketPath,
        SidecarRequest request,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            return (await ExchangeAsync(socket, socketPath, request, verifyPeer: null, timeout, cancellationToken), socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<SidecarResponse> ExchangeAsync(
        Socket socket,
        string socketPath,
        SidecarRequest request,
        Action<Socket>? verifyPeer,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), deadline.Token);
        }
        catch (SocketException ex)
        {
            throw new SidecarException($"the sidecar is not reachable at {socketPath}: {ex.Message}", ex);
        }
        verifyPeer?.Invoke(socket);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            await DelimitedMessages.WriteAsync(stream, request, deadline.Token);
            return await DelimitedMessages.ReadAsync(stream, SidecarResponse.Parser, DelimitedMessages.MaxMessageBytes, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new SidecarException($"the sidecar at {socketPath} did not answer in time");
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException)
        {
            throw new SidecarException($"the sidecar at {socketPath} closed the connection without an answer (is this uid allowed to use it?)", ex);
        }
    }

    /// <summary>Throws <see cref="SidecarException"/> for an ErrorResponse or an unexpected response.</summary>
    public static SidecarResponse Expect(SidecarResponse response, SidecarResponse.ResponseOneofCase expected)
    {
        if (response.ResponseCase == SidecarResponse.ResponseOneofCase.Error)
        {
            throw new SidecarException($"{response.Error.Message} ({response.Error.Code})");
        }
        if (response.ResponseCase != expected)
        {
            throw new SidecarException($"unexpected answer from the sidecar: {response.ResponseCase}");
        }
        return response;
    }
}
