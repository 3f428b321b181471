using System.Collections.Concurrent;
using System.Net.Sockets;
using Google.Protobuf;
using Xares.Protos.Sidecar.V1;

namespace Xares.GitHelper.Tests.Support;

/// <summary>
/// A real Unix-socket server standing in for xares-sidecar: reads one delimited request per connection,
/// records it, and writes whatever bytes the test supplies (null: accept and never answer).
/// </summary>
internal sealed class FakeSidecar : IDisposable
{
    private readonly SocketDirectory directory = new();
    private readonly Socket listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Func<SidecarRequest, byte[]?> answer;
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentQueue<Socket> connections = new();
    private readonly Task accepting;

    private FakeSidecar(Func<SidecarRequest, byte[]?> answer)
    {
        this.answer = answer;
        listener.Bind(new UnixDomainSocketEndPoint(directory.SocketPath));
        listener.Listen(16);
        accepting = Task.Run(AcceptAsync);
    }

    public string SocketPath => directory.SocketPath;

    public ConcurrentQueue<SidecarRequest> Requests { get; } = new();

    public int ConnectionCount => connections.Count;

    public static FakeSidecar Answering(SidecarResponse response) => new(_ => Delimited(response));

    public static FakeSidecar AnsweringBytes(byte[] frame) => new(_ => frame);

    public static FakeSidecar NeverAnswering() => new(_ => null);

    public static byte[] Delimited(SidecarResponse response)
    {
        using var frame = new MemoryStream();
        response.WriteDelimitedTo(frame);
        return frame.ToArray();
    }

    public void Dispose()
    {
        stopping.Cancel();
        listener.Dispose();
        foreach (var connection in connections)
        {
            connection.Dispose();
        }

        try
        {
            accepting.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The accept loop ends by cancellation; nothing to report.
        }

        stopping.Dispose();
        directory.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            connections.Enqueue(connection);
            _ = Task.Run(() => Serve(connection));
        }
    }

    private void Serve(Socket connection)
    {
        try
        {
            using var stream = new NetworkStream(connection, ownsSocket: false);
            var request = SidecarRequest.Parser.ParseDelimitedFrom(stream);
            Requests.Enqueue(request);
            if (answer(request) is { } frame)
            {
                stream.Write(frame);
                connection.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidProtocolBufferException)
        {
            // The helper hung up or the test is over.
        }
    }
}
