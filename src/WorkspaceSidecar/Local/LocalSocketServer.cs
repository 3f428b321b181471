using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Native;

namespace Xares.Sidecar.Local;

/// <summary>
/// The sidecar's Unix socket: one delimited SidecarRequest and one SidecarResponse per
/// connection, only from peers the <see cref="PeerPolicy"/> allows. A reply that holds something
/// (a run's proxies) keeps the connection open until the peer closes it, then disposes it.
/// </summary>
internal sealed class LocalSocketServer : IAsyncDisposable
{
    private const int MaxConcurrentConnections = 64;
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _listener;
    private readonly PeerPolicy _policy;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots = new(MaxConcurrentConnections, MaxConcurrentConnections);

    private LocalSocketServer(string path, Socket listener, PeerPolicy policy, ILogger logger)
    {
        Path = path;
        _listener = listener;
        _policy = policy;
        _logger = logger;
    }

    public string Path { get; }

    public static LocalSocketServer Bind(string socketPath, uint? socketGroup, PeerPolicy policy, ILogger<LocalSocketServer> logger)
    {
        var path = SocketDirectory.PrepareForListening(socketPath, socketGroup);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            if (socketGroup is { } gid)
            {
                FileOwnership.SetGroup(path, gid);
                mode |= UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
            }
            File.SetUnixFileMode(path, mode);
            listener.Listen(MaxConcurrentConnections);
        }
        catch (Exception ex) when (ex is SocketException or IOException or UnauthorizedAccessException)
        {
            listener.Dispose();
            throw new SidecarException($"cannot listen on {path}: {ex.Message}", ex);
        }
        SidecarLog.Listening(logger, path);
        return new LocalSocketServer(path, listener, policy, logger);
    }

    public async Task RunAsync(Func<SidecarRequest, PeerCredentials, CancellationToken, Task<LocalReply>> handle, CancellationToken cancellationToken)
    {
        var running = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await _slots.WaitAsync(cancellationToken);
                Socket connection;
                try
                {
                    connection = await _listener.AcceptAsync(cancellationToken);
                }
                catch
                {
                    _slots.Release();
                    throw;
                }
                running.RemoveAll(t => t.IsCompleted);
                running.Add(ServeAsync(connection, handle, cancellationToken));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException) when (cancellationToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(running);
    }

    private async Task ServeAsync(Socket connection, Func<SidecarRequest, PeerCredentials, CancellationToken, Task<LocalReply>> handle, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            using (connection)
            {
                var peer = PeerCredentials.Of(connection);
                var decision = _policy.Decide(peer);
                if (decision is not (PeerDecision.Allowed or PeerDecision.BootstrapOnly))
                {
                    SidecarLog.PeerRefused(_logger, peer.Pid, peer.Uid, decision.ToString());
                    return;
                }
                await using var stream = new NetworkStream(connection, ownsSocket: false);
                SidecarRequest request;
                using (var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    readTimeout.CancelAfter(ReadTimeout);
                    request = await DelimitedMessages.ReadAsync(stream, SidecarRequest.Parser, DelimitedMessages.MaxMessageBytes, readTimeout.Token);
                }
                if (decision == PeerDecision.BootstrapOnly && request.RequestCase != SidecarRequest.RequestOneofCase.Bootstrap)
                {
                    SidecarLog.PeerRefused(_logger, peer.Pid, peer.Uid, "root may only hand over a bootstrap token");
                    return;
                }
                var reply = await handle(request, peer, cancellationToken);
                await using var held = reply.HeldUntilClose;
                using (var writeTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    writeTimeout.CancelAfter(WriteTimeout);
                    await DelimitedMessages.WriteAsync(stream, reply.Response, writeTimeout.Token);
                }
                if (held is not null)
                {
                    // Nothing more is sent on this connection: any byte, EOF or an error ends it.
                    _ = await stream.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Peer too slow, or shutting down.
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
        {
            SidecarLog.ConnectionFailed(_logger, ex.GetType().Name, ex.Message);
        }
        catch (Exception ex)
        {
            SidecarLog.ConnectionCrashed(_logger, ex);
        }
        finally
        {
            _slots.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        _listener.Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
