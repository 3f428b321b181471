using Xares.Bench.FleetLoad.Measures;
using Xares.Bench.FleetLoad.Sidecars;
using Xares.DevKit;

namespace Xares.Bench.FleetLoad.Scenarios;

/// <summary>
/// The fleet connected and idle (streams open, keep-alive pings, nothing revoked): each broker's
/// CPU over a window, as a share of one core, and its resident memory against a baseline taken with
/// <c>connectedAtZero</c> sidecars connected (0 with several brokers), per sidecar connected since.
/// </summary>
internal static class IdlePhase
{
    public sealed record Result(string Line, double CoreShare, double RssAtZeroMib, double RssMib, double KibPerSidecar, double? PostgresCoreShare);

    public static async Task<Result> RunAsync(Fleet fleet, IReadOnlyList<BrokerProcess> brokers, IReadOnlyList<long> rssAtZeroKib, TimeSpan settle, int connectedAtZero, TimeSpan window, bool postgres = false)
    {
        SqliteRun.Progress($"idle: {settle.TotalSeconds} s to settle, then CPU over {window.TotalSeconds} s");
        await Task.Delay(settle);
        var postgresBefore = postgres ? PostgresCpuSeconds() : 0;
        var shares = await ProcessStats.CoreShareAsync([.. brokers.Select(b => b.ProcessId)], window);
        double? postgresShare = postgres ? (PostgresCpuSeconds() - postgresBefore) / window.TotalSeconds : null;
        var parts = new List<string>();
        double totalKib = 0, zeroKib = 0;
        for (var i = 0; i < brokers.Count; i++)
        {
            var rss = ProcessStats.RssKib(brokers[i].ProcessId);
            var url = new Uri(brokers[i].GrpcUrl);
            var connected = fleet.Sidecars.Count(s => s.Broker == url && s.Connected);
            var added = connected - connectedAtZero;
            var perSidecar = added <= 0 ? 0 : (rss - rssAtZeroKib[i]) / (double)added;
            parts.Add($"broker{i}_cpu={shares[i]:P1} broker{i}_rss={rss / 1024.0:F0}MiB broker{i}_rss0={rssAtZeroKib[i] / 1024.0:F0}MiB broker{i}_connected={connected} broker{i}_kib_per_sidecar={perSidecar:F1}");
            totalKib += rss;
            zeroKib += rssAtZeroKib[i];
        }
        var connectedAll = fleet.ConnectedCount;
        foreach (var broker in brokers)
        {
            // The streams each broker says it holds (brokers that export the gauge).
            if (await MetricsScrape.SumAsync(broker.RestUrl, "xares_revocation_streams") is { } streams)
            {
                parts.Add($"streams_reported={streams:F0}");
            }
        }
        var line = $"idle: connected={connectedAll} refreshes={fleet.Sidecars.Sum(s => s.Refreshes)} {string.Join(' ', parts)} fleet_load_rss={Environment.WorkingSet / 1048576}MiB" + (postgresShare is { } pg ? $" postgres_cpu={pg:P1}" : "");
        return new Result(line, shares.Max(), zeroKib / 1024.0 / brokers.Count, totalKib / 1024.0 / brokers.Count,
            connectedAll <= connectedAtZero ? 0 : (totalKib - zeroKib) / (connectedAll - connectedAtZero), postgresShare);
    }

    /// <summary>CPU seconds of every PostgreSQL process on the machine (the bench's throwaway cluster is the only one).</summary>
    private static double PostgresCpuSeconds()
    {
        double sum = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "postgres")
                {
                    sum += ProcessStats.CpuSeconds(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process ended while being read.
            }
        }
        return sum;
    }
}
