using System.Net.Sockets;

namespace Xares.EndToEnd.Tests.Docker;

/// <summary>
/// A unix-socket proxy in front of the Docker engine, as the README recommends running one. It can
/// stall: connections it already forwards stay open but carry nothing more, and new ones are closed
/// at once, which is what a client sees when the engine behind a proxy goes away. Half-closes are
/// passed on, so exec stdin (the bootstrap token) works through it.
/// </summary>
internal sealed class StallingSocketProxy : IAsyncDisposable
{
    private readonly Socket listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly string upstream;
    private readonly CancellationTokenSource stop = new();
    private readonly List<Task> pumps = [];
    private readonly Task accepting;
    private CancellationTokenSource generation = new();

    private StallingSocketProxy(string path, string upstream)
    {
        Path = path;
        this.upstream = upstream;
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(64);
        accepting = AcceptAsync();
    }

    public string Path { get; }

    public string Endpoint => "unix://" + Path;

    /// <param name="engineEndpoint">unix:///… of the engine.</param>
    public static StallingSocketProxy Start(string path, string engineEndpoint) => new(path, new Uri(engineEndpoint).AbsolutePath);

    public bool Stalled { get; private set; }

    /// <summary>Freezes every forwarded connection (open, silent) and closes new ones until <see cref="Resume"/>.</summary>
    public void Stall()
    {
        Stalled = true;
        generation.Cancel();
    }

    public void Resume()
    {
        generation = new CancellationTokenSource();
        Stalled = false;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await listener.AcceptAsync(stop.Token);
                if (Stalled)
                {
                    client.Dispose();
                    continue;
                }
                lock (pumps)
                {
                    pumps.Add(ForwardAsync(client, generation.Token));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ForwardAsync(Socket client, CancellationToken stalled)
    {
        using var engine = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await engine.ConnectAsync(new UnixDomainSocketEndPoint(upstream), stalled);
            await Task.WhenAll(PumpAsync(client, engine, stalled), PumpAsync(engine, client, stalled));
        }
        catch (OperationCanceledException) when (stalled.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            // Stalled: the client's side stays open and silent until the proxy is disposed.
            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        client.Dispose();
    }

    private static async Task PumpAsync(Socket from, Socket to, CancellationToken stalled)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await from.ReceiveAsync(buffer, SocketFlags.None, stalled)) > 0)
        {
            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, stalled);
        }
        to.Shutdown(SocketShutdown.Send);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Dispose();
        await accepting;
        Task[] running;
        lock (pumps)
        {
            running = [.. pumps];
        }
        await Task.WhenAll(running);
        File.Delete(Path);
    }
}
