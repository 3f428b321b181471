using System.Diagnostics;

namespace Xares.Bench.FleetLoad.Sidecars;

/// <summary>A bootstrap token for a workspace and the broker (replica) its sidecar talks to.</summary>
internal sealed record SidecarGrant(Uri Broker, string BootstrapToken);

/// <summary>The simulated sidecars of one run, all in this process, each on its own connection.</summary>
internal sealed class Fleet : IAsyncDisposable
{
    private readonly List<SimulatedSidecar> _sidecars = [];
    private readonly List<Task> _running = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();

    public IReadOnlyList<SimulatedSidecar> Sidecars => _sidecars;

    public int Count => _sidecars.Count;

    /// <summary>Sidecars whose session could not be opened or whose stream never opened (the broker did not answer in time).</summary>
    public int FailedToConnect { get; private set; }

    /// <summary>First fills that got no lease.</summary>
    public int FailedFills { get; private set; }

    /// <summary>
    /// Opens a session per grant, <paramref name="parallelism"/> at a time, starts its stream and
    /// refresh, waits until the stream is open and, with <paramref name="fill"/>, takes one lease
    /// (the cached lease a busy workspace holds and revalidates on every reconnect).
    /// </summary>
    public async Task ConnectAsync(IReadOnlyList<SidecarGrant> grants, int parallelism, bool fill)
    {
        var added = grants.Select((grant, i) => new SimulatedSidecar(_sidecars.Count + i, grant.Broker)).ToArray();
        _sidecars.AddRange(added);
        await Parallel.ForEachAsync(Enumerable.Range(0, added.Length), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, cancellationToken) =>
        {
            var sidecar = added[i];
            try
            {
                await sidecar.OpenAsync(grants[i].BootstrapToken, cancellationToken);
                lock (_lock)
                {
                    _running.Add(sidecar.RunAsync(_stop.Token));
                }
                await sidecar.FirstConnected.WaitAsync(TimeSpan.FromSeconds(120), cancellationToken);
            }
            catch (Exception ex) when (ex is Grpc.Core.RpcException or TimeoutException)
            {
                lock (_lock)
                {
                    FailedToConnect++;
                }
                return;
            }
            if (fill && !await TryFillAsync(sidecar, cancellationToken))
            {
                lock (_lock)
                {
                    FailedFills++;
                }
            }
        });
    }

    private static async Task<bool> TryFillAsync(SimulatedSidecar sidecar, CancellationToken cancellationToken)
    {
        try
        {
            return await sidecar.FillAsync(cancellationToken);
        }
        catch (Grpc.Core.RpcException)
        {
            return false;
        }
    }

    /// <summary>Disconnects every sidecar but the first <paramref name="keep"/>; they stay in the fleet, no longer connected.</summary>
    public async Task DisconnectAllButAsync(int keep)
    {
        foreach (var sidecar in _sidecars.Skip(keep))
        {
            await sidecar.DisconnectAsync();
        }
    }

    public int ConnectedCount => _sidecars.Count(s => s.Connected);

    /// <summary>Polls until every sidecar satisfies <paramref name="condition"/> or <paramref name="timeout"/> passes; how many do.</summary>
    public async Task<int> WaitUntilAllAsync(Func<SimulatedSidecar, bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var satisfied = _sidecars.Count(condition);
            if (satisfied == _sidecars.Count || clock.Elapsed >= timeout)
            {
                return satisfied;
            }
            await Task.Delay(50);
        }
    }

    /// <summary>For each sidecar that heard <paramref name="targetId"/>: milliseconds from <paramref name="since"/> (a Stopwatch timestamp) to its arrival.</summary>
    public double[] DeliveryTimes(string targetId, long since, Func<SimulatedSidecar, bool>? among = null) =>
        [.. _sidecars.Where(among ?? (_ => true))
            .Select(s => s.Heard(targetId, out var arrivedAt) ? Stopwatch.GetElapsedTime(since, arrivedAt).TotalMilliseconds : double.NaN)
            .Where(ms => !double.IsNaN(ms))];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Task[] running;
        lock (_lock)
        {
            running = [.. _running];
        }
        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var sidecar in _sidecars)
        {
            await sidecar.DisposeAsync();
        }
        _stop.Dispose();
    }
}
