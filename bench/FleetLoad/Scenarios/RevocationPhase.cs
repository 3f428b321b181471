using System.Diagnostics;
using Xares.Bench.FleetLoad.Measures;
using Xares.Bench.FleetLoad.Sidecars;
using Xares.DevKit;

namespace Xares.Bench.FleetLoad.Scenarios;

/// <summary>
/// Deletes the fleet's shared credential through one broker's REST API and times, per simulated
/// sidecar, from the start of the DELETE to the event arriving on its stream. Counts the
/// revocation-log reads the brokers report over that window (when they export the counter).
/// </summary>
internal static class RevocationPhase
{
    public const string LogReadsMetric = "xares_revocation_log_reads_total";

    public sealed record Result(int Told, long Start, double DeleteMs, double? LogReads, double WindowSeconds, int WitnessesHeard);

    public static async Task<Result> RunAsync(Fleet fleet, AdminClient via, string credentialId, IReadOnlyList<string> restUrls, Witnesses witnesses, TimeSpan timeout)
    {
        var readsBefore = await SumAsync(restUrls);
        var start = Stopwatch.GetTimestamp();
        await via.DeleteCredentialAsync(credentialId);
        // How much of each delivery time is the DELETE itself (its commit revokes every lease of the credential).
        var deleteMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var told = await fleet.WaitUntilAllAsync(s => s.Heard(credentialId, out _), timeout);
        var window = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var readsAfter = await SumAsync(restUrls);
        var witnessesHeard = await witnesses.HeardAsync(credentialId, TimeSpan.FromSeconds(10));
        return new Result(told, start, deleteMs, readsAfter - readsBefore, window, witnessesHeard);
    }

    public static string Describe(string name, Fleet fleet, string credentialId, Result result, Func<SimulatedSidecar, bool>? among = null)
    {
        var delivery = new Percentiles(fleet.DeliveryTimes(credentialId, result.Start, among));
        var of = among is null ? fleet.Count : fleet.Sidecars.Count(among);
        return $"{name}: told={delivery.Count}/{of} {delivery.Describe("")} delete_answered={result.DeleteMs:F0}ms";
    }

    public static string DescribeReads(Result result) =>
        result.LogReads is { } reads ? $"log_reads={reads:F0} in {result.WindowSeconds:F1}s" : "log_reads=n/a";

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
