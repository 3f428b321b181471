using System.Diagnostics;
using Xares.Bench.FleetLoad.Measures;
using Xares.Bench.FleetLoad.Sidecars;
using Xares.DevKit;

namespace Xares.Bench.FleetLoad.Scenarios;

/// <summary>
/// Deletes the fleet's shared credential through one broker's REST API and times, per simulated
/// sidecar, from the start of the DELETE to the event arriving on its stream. Counts the
/// revocation-log reads the brokers report over that window (when they export the counter), and
/// the brokers' own share: their delivery histogram (dispatch to event written on each stream),
/// which leaves out this process's time to receive ten thousand events on the same two cores.
/// </summary>
internal static class RevocationPhase
{
    public const string LogReadsMetric = "xares_revocation_log_reads_total";
    public const string DeliveryMetric = "xares_revocation_delivery_seconds";

    public sealed record Result(int Told, long Start, double DeleteMs, double? LogReads, double WindowSeconds, int WitnessesHeard, string BrokerWrites);

    public static async Task<Result> RunAsync(Fleet fleet, AdminClient via, string credentialId, IReadOnlyList<string> restUrls, Witnesses witnesses, TimeSpan timeout)
    {
        var readsBefore = await SumAsync(restUrls);
        var deliveredBefore = await BucketsAsync(restUrls);
        var start = Stopwatch.GetTimestamp();
        await via.DeleteCredentialAsync(credentialId);
        // How much of each delivery time is the DELETE itself (its commit revokes every lease of the credential).
        var deleteMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var told = await fleet.WaitUntilAllAsync(s => s.Heard(credentialId, out _), timeout);
        var window = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var readsAfter = await SumAsync(restUrls);
        var brokerWrites = DescribeWrites(deliveredBefore, await BucketsAsync(restUrls));
        var witnessesHeard = await witnesses.HeardAsync(credentialId, TimeSpan.FromSeconds(10));
        return new Result(told, start, deleteMs, readsAfter - readsBefore, window, witnessesHeard, brokerWrites);
    }

    public static string Describe(string name, Fleet fleet, string credentialId, Result result, Func<SimulatedSidecar, bool>? among = null)
    {
        var delivery = new Percentiles(fleet.DeliveryTimes(credentialId, result.Start, among));
        var of = among is null ? fleet.Count : fleet.Sidecars.Count(among);
        return $"{name}: told={delivery.Count}/{of} {delivery.Describe("")} delete_answered={result.DeleteMs:F0}ms";
    }

    public static string DescribeReads(Result result) =>
        (result.LogReads is { } reads ? $"log_reads={reads:F0} in {result.WindowSeconds:F1}s" : "log_reads=n/a") + " " + result.BrokerWrites;

    /// <summary>The bucket bounds the brokers' p50 and p99 lie under, over the writes between the two scrapes.</summary>
    private static string DescribeWrites(SortedDictionary<double, double>? before, SortedDictionary<double, double>? after)
    {
        if (before is null || after is null || after.Count == 0)
        {
            return "broker_writes=n/a";
        }
        var delta = after.ToDictionary(b => b.Key, b => b.Value - before.GetValueOrDefault(b.Key));
        var total = delta[double.PositiveInfinity];
        if (total <= 0)
        {
            return "broker_writes=0";
        }
        string Under(double share) => delta.Where(b => b.Value >= share * total).Min(b => b.Key) is var bound && double.IsFinite(bound)
            ? $"{bound * 1000:F0}ms" : "inf";
        return $"broker_writes={total:F0} broker_write_p50<={Under(0.5)} broker_write_p99<={Under(0.99)}";
    }

    private static async Task<SortedDictionary<double, double>?> BucketsAsync(IReadOnlyList<string> restUrls)
    {
        SortedDictionary<double, double>? sum = null;
        foreach (var url in restUrls)
        {
            foreach (var (bound, count) in await MetricsScrape.BucketsAsync(url, DeliveryMetric) ?? [])
            {
                sum ??= [];
                sum[bound] = sum.GetValueOrDefault(bound) + count;
            }
        }
        return sum;
    }

    private static async Task<double?> SumAsync(IReadOnlyList<string> restUrls)
    {
        double? sum = null;
        foreach (var url in restUrls)
        {
            if (await MetricsScrape.SumAsync(url, LogReadsMetric) is { } value)
            {
                sum = (sum ?? 0) + value;
            }
        }
        return sum;
    }
}
