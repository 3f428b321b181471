using System.Diagnostics;
using Xares.Bench.FleetLoad.Measures;
using Xares.Bench.FleetLoad.Sidecars;

namespace Xares.Bench.FleetLoad.Scenarios;

/// <summary>
/// Lease issues per second from a few busy sidecars in a closed loop (every fill a cache miss, so
/// a full issue committed with its audit record), as bench/LeaseLoad does, but on the busy
/// sidecars' own connections while the rest of the fleet stays connected.
/// </summary>
internal static class LeaseRate
{
    public sealed record Result(double Rate, Percentiles Latency);

    public static async Task<Result> MeasureAsync(IReadOnlyList<SimulatedSidecar> busy, TimeSpan warmup, TimeSpan measured)
    {
        await Task.WhenAll(busy.Select(s => LoopAsync(s, warmup)));
        var clock = Stopwatch.StartNew();
        var latencies = await Task.WhenAll(busy.Select(s => LoopAsync(s, measured)));
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        return new Result(all.Length / elapsed, new Percentiles(all));
    }

    private static async Task<List<double>> LoopAsync(SimulatedSidecar sidecar, TimeSpan duration)
    {
        var latencies = new List<double>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            var start = Stopwatch.GetTimestamp();
            if (!await sidecar.FillAsync(CancellationToken.None))
            {
                throw new InvalidOperationException("A busy sidecar got no lease: the fleet's credential is missing.");
            }
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return latencies;
    }
}
