using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Xares.Bench.FleetLoad.Measures;

/// <summary>
/// The broker's own view of a restart, taken from a thread of its own with blocking socket calls:
/// the first time GET /healthz answered 200, and the first time its `xares_revocation_streams`
/// gauge reached a target. The load generator's thread pool is swamped by ten thousand
/// reconnecting sidecars after a restart; even HttpClient's synchronous Send waits on that pool for
/// its connection, so a probe through it reported the broker healthy minutes after `curl` got
/// answers in milliseconds. Plain HTTP on a blocking socket needs no pool.
/// </summary>
internal sealed class HealthWatch : IDisposable
{
    private static readonly TimeSpan HealthTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ScrapeTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _healthyAt;
    private long _streamsAt;

    public HealthWatch(string restUrl, int streamsTarget)
    {
        var rest = new Uri(restUrl);
        _thread = new Thread(() => Watch(rest, streamsTarget)) { IsBackground = true, Name = "restart-watch" };
        _thread.Start();
    }

    /// <summary>The Stopwatch timestamp of the first 200 from /healthz, or null while none came.</summary>
    public long? HealthyAt => Interlocked.Read(ref _healthyAt) is var at and > 0 ? at : null;

    /// <summary>The Stopwatch timestamp when the broker first reported the target number of streams, or null.</summary>
    public long? StreamsBackAt => Interlocked.Read(ref _streamsAt) is var at and > 0 ? at : null;

    private void Watch(Uri rest, int streamsTarget)
    {
        while (!_stop.IsCancellationRequested && StreamsBackAt is null)
        {
            if (HealthyAt is null && Get(rest, "/healthz", HealthTimeout) is { Status: 200 })
            {
                Interlocked.Exchange(ref _healthyAt, Stopwatch.GetTimestamp());
            }
            // A scrape of a broker in a reconnect storm can take seconds: the gauge held its value
            // somewhere between asking and answering, so the moment of asking is the figure.
            var asked = Stopwatch.GetTimestamp();
            if (HealthyAt is not null && Get(rest, "/metrics", ScrapeTimeout) is { Status: 200 } metrics && Gauge(metrics.Body, "xares_revocation_streams") >= streamsTarget)
            {
                Interlocked.Exchange(ref _streamsAt, asked);
            }
            _stop.Token.WaitHandle.WaitOne(Interval);
        }
    }

    /// <summary>One GET; null when refused, reset or slower than the timeout.</summary>
    private static (int Status, string Body)? Get(Uri rest, string path, TimeSpan timeout)
    {
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp)
            {
                NoDelay = true, SendTimeout = (int)timeout.TotalMilliseconds, ReceiveTimeout = (int)timeout.TotalMilliseconds,
            };
            socket.Connect(rest.Host, rest.Port);
            // HTTP/1.0: the answer ends when the broker closes, never chunked.
            socket.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nHost: {rest.Authority}\r\n\r\n"));
            var answer = new MemoryStream();
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = socket.Receive(buffer)) > 0)
            {
                answer.Write(buffer, 0, read);
            }
            var text = Encoding.UTF8.GetString(answer.GetBuffer(), 0, (int)answer.Length);
            // "HTTP/1.1 200 OK": the status is the second word of the first line.
            var status = text.Split(' ', 3) is [_, var code, ..] && int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
            var bodyStart = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            return (status, bodyStart < 0 ? "" : text[(bodyStart + 4)..]);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>An unlabelled gauge's value in the text exposition format, or -1 when absent.</summary>
    private static double Gauge(string exposition, string name)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal)
                && double.TryParse(line.AsSpan(name.Length + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }
        return -1;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(3));
        _stop.Dispose();
    }
}
