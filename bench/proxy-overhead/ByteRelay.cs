using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xares.DevKit;

namespace Xares.Bench.ProxyOverhead;

/// <summary>
/// socat copying bytes between the load generator and the provider stub in a process of its own:
/// no HTTP parsing, no key swap, nothing to decide. What it costs against the direct call is the
/// floor for any separate-process proxy on this machine.
/// </summary>
internal sealed class ByteRelay : IAsyncDisposable
{
    private readonly Process _process;

    private ByteRelay(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    /// <summary>The stub's base URL (path included) through the relay.</summary>
    public string BaseUrl { get; }

    public static async Task<ByteRelay> StartAsync(string stubBaseUrl)
    {
        var stub = new Uri(stubBaseUrl);
        var port = FreePort.Next();
        var info = new ProcessStartInfo("socat") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in new[] { "-T", "60", $"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr", $"TCP:127.0.0.1:{stub.Port},nodelay" })
        {
            info.ArgumentList.Add(argument);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("socat did not start");
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return new ByteRelay(process, $"http://127.0.0.1:{port}{stub.AbsolutePath}");
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }
        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException("socat did not listen within 2 s: " + await process.StandardError.ReadToEndAsync());
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
