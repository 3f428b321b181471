using System.Diagnostics;

namespace Xares.Bench.FleetLoad.Measures;

/// <summary>
/// Polls GET /healthz from a thread of its own with blocking HTTP/1.1 calls, and keeps the first
/// time it answered 200. The load generator's thread pool is busy with ten thousand reconnecting
/// sidecars after a broker restart; a probe on it reported the broker healthy tens of seconds
/// after a separate scraper got answers, so the restart's "healthy" time is taken here instead.
/// </summary>
internal sealed class HealthWatch : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _healthyAt;

    public HealthWatch(string restUrl)
    {
        _thread = new Thread(() => Watch(new Uri(restUrl + "/healthz"))) { IsBackground = true, Name = "healthz-watch" };
        _thread.Start();
    }

    /// <summary>The Stopwatch timestamp of the first 200, or null while none came.</summary>
    public long? HealthyAt => Interlocked.Read(ref _healthyAt) is var at and > 0 ? at : null;

    private void Watch(Uri url)
    {
        using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(1) };
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var response = client.Send(new HttpRequestMessage(HttpMethod.Get, url), _stop.Token);
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Exchange(ref _healthyAt, Stopwatch.GetTimestamp());
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException)
            {
                // Not up yet (refused, reset or too slow): try again.
            }
            _stop.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(50));
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(2));
        _stop.Dispose();
    }
}
