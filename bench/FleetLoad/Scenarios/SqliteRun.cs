using System.Diagnostics;
using Xares.Bench.FleetLoad.Measures;
using Xares.Bench.FleetLoad.Sidecars;
using Xares.DevKit;

namespace Xares.Bench.FleetLoad.Scenarios;

/// <summary>
/// One broker on SQLite: lease rate with only the busy sidecars connected; then the whole fleet
/// connected and idle (broker CPU and memory per sidecar); the shared credential deleted (told to
/// every sidecar); lease rate again beside the idle fleet; a broker restart (every stream resumed,
/// nothing missed).
/// </summary>
internal sealed class SqliteRun(RunOptions options)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    public async Task<int> RunAsync()
    {
        using var scratch = ScratchDirectory.Create("xf-");
        await using var broker = await BrokerProcess.StartAsync(scratch, new BrokerLaunch(Arguments: options.ServeArguments));
        using var admin = broker.CreateAdminClient();
        var grpc = new Uri(broker.GrpcUrl);
        var userId = await admin.CreateUserAsync("fleet");
        var credential = await FleetCredential.CreateAsync(admin, userId);
        await Task.Delay(Settle);
        var rssAtZero = ProcessStats.RssKib(broker.ProcessId);
        Progress($"broker pid {broker.ProcessId} on {broker.GrpcUrl}, RSS with no sidecar {rssAtZero / 1024.0:F0} MiB");

        await using var fleet = new Fleet();
        var busy = Math.Min(options.Busy, options.Sidecars);
        await fleet.ConnectAsync(await FleetCredential.CreateWorkspacesAsync(admin, userId, 0, busy, [grpc]), options.ConnectParallelism, fill: true);
        var busySidecars = fleet.Sidecars.Take(busy).ToArray();
        Progress($"lease rate with {busy} connected: {options.Warmup.TotalSeconds} s warm-up, {options.LeaseWindow.TotalSeconds} s measured");
        var alone = await LeaseRate.MeasureAsync(busySidecars, options.Warmup, options.LeaseWindow);
        Report($"lease_rate_alone: connected={busy} rate={alone.Rate:F0}/s {alone.Latency.Describe("")}");
        // The baseline for memory per sidecar: the broker warmed up (JIT, pools, heap grown by the
        // lease load) with only the busy sidecars connected, so the difference is the fleet's.
        await Task.Delay(Settle);
        var rssWarm = ProcessStats.RssKib(broker.ProcessId);
        Report($"rss_baseline: cold={rssAtZero / 1024.0:F0}MiB warm_with_{busy}_connected={rssWarm / 1024.0:F0}MiB");

        await using var witnesses = await Witnesses.StartAsync(scratch, admin, userId, [broker.GrpcUrl], options.Witnesses);
        var clock = Stopwatch.StartNew();
        var grants = await FleetCredential.CreateWorkspacesAsync(admin, userId, busy, options.Sidecars - busy, [grpc]);
        var created = clock.Elapsed.TotalSeconds;
        Progress($"{grants.Length} workspaces created in {created:F1} s; connecting their sidecars");
        clock.Restart();
        await fleet.ConnectAsync(grants, options.ConnectParallelism, fill: true);
        Report($"connect: sidecars={fleet.Count} connected={fleet.ConnectedCount} failed={fleet.FailedToConnect} failed_fills={fleet.FailedFills} workspaces_s={created:F1} connect_s={clock.Elapsed.TotalSeconds:F1} witnesses_connected={await witnesses.ConnectedAsync(TimeSpan.FromSeconds(30))}/{witnesses.Count}");

        var idle = await IdlePhase.RunAsync(fleet, [broker], [rssWarm], Settle, busy, options.IdleWindow);
        Report(idle.Line);

        var revocation = await RevocationPhase.RunAsync(fleet, admin, credential, [broker.RestUrl], witnesses, options.RevocationTimeout);
        var revoked = RevocationPhase.Describe("revocation", fleet, credential, revocation);
        Report($"{revoked} {RevocationPhase.DescribeReads(revocation)} witnesses_heard={revocation.WitnessesHeard}/{witnesses.Count}");

        var second = await FleetCredential.CreateAsync(admin, userId);
        Progress($"lease rate with {fleet.Count} connected, {busy} busy");
        var beside = await LeaseRate.MeasureAsync(busySidecars, options.Warmup, options.LeaseWindow);
        var ratio = beside.Rate / alone.Rate;
        Report($"lease_rate_fleet: connected={fleet.ConnectedCount} busy={busy} rate={beside.Rate:F0}/s {beside.Latency.Describe("")} ratio={ratio:P0}");

        var restart = await RestartPhase.RunAsync(fleet, broker, admin, userId, [credential, second], witnesses, options.RevocationTimeout);
        Report(restart.Line);

        // A second pair on a broker that has run a while since its restart, back to back: the
        // fleet's rate, then the rest disconnected and the rate alone. The first "alone" ran right
        // after the broker started (JIT not settled), so this pair is the fairer comparison.
        await FleetCredential.CreateAsync(admin, userId);
        Progress($"lease rate with {fleet.ConnectedCount} connected again, then with {busy} alone");
        var besideAgain = await LeaseRate.MeasureAsync(busySidecars, options.Warmup, options.LeaseWindow);
        Report($"lease_rate_fleet_again: connected={fleet.ConnectedCount} busy={busy} rate={besideAgain.Rate:F0}/s {besideAgain.Latency.Describe("")}");
        await fleet.DisconnectAllButAsync(busy);
        await Task.Delay(Settle);
        var aloneAgain = await LeaseRate.MeasureAsync(busySidecars, options.Warmup, options.LeaseWindow);
        var warmRatio = besideAgain.Rate / aloneAgain.Rate;
        Report($"lease_rate_alone_again: connected={fleet.ConnectedCount} rate={aloneAgain.Rate:F0}/s {aloneAgain.Latency.Describe("")} ratio={warmRatio:P0}");

        Report($"row: fleet | SQLite, {fleet.Count} simulated sidecars (+{witnesses.Count} real): idle broker CPU {idle.CoreShare:P1} of one core, " +
            $"RSS {idle.RssAtZeroMib:F0} MiB with {busy} connected (after their lease load) → {idle.RssMib:F0} MiB = {idle.KibPerSidecar:F0} KiB per added sidecar; shared credential deleted: {revoked}, " +
            $"{RevocationPhase.DescribeReads(revocation)}; lease rate {busy} busy with {fleet.Count} connected vs {busy} connected: {besideAgain.Rate:F0} vs {aloneAgain.Rate:F0}/s ({warmRatio:P0}, warm broker, back to back; " +
            $"first pair {beside.Rate:F0} vs {alone.Rate:F0}/s ({ratio:P0}), the alone run right after the broker started); " +
            $"{restart.Summary} | CPU <= 5 %, <= 100 KB per sidecar, p99 <= 1 s, >= 80 %, restart <= 30 s");
        return 0;
    }

    internal static void Progress(string message) => Console.Error.WriteLine($"fleet: {message}");

    internal static void Report(string line) => Console.WriteLine(line);
}
