using System.Security.Cryptography;
using Xares.Bench.FleetLoad.Measures;
using Xares.Bench.FleetLoad.Sidecars;
using Xares.DevKit;

namespace Xares.Bench.FleetLoad.Scenarios;

/// <summary>
/// Replicas on one PostgreSQL database (a fresh one, dropped afterwards), the fleet's sidecars
/// spread over them in turn as behind a load balancer: idle cost of each replica and of PostgreSQL,
/// then the shared credential deleted through the first replica and a second one through the
/// second, each timed to every sidecar on either replica.
/// </summary>
internal sealed class PostgresRun(RunOptions options)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    public async Task<int> RunAsync()
    {
        using var scratch = ScratchDirectory.Create("xfp-");
        var database = await PostgresServer.CreateDatabaseAsync();
        var replicas = new List<BrokerProcess>();
        try
        {
            var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            var environment = new Dictionary<string, string> { ["XARES_MASTER_KEY"] = masterKey, ["XARES_DATABASE"] = database };
            for (var i = 0; i < options.Replicas; i++)
            {
                replicas.Add(await BrokerProcess.StartAsync(scratch, new BrokerLaunch($"replica-{i}", options.ServeArguments, environment, WritesAdminKey: i == 0)));
            }
            var admins = replicas.Select(r => new AdminClient(r.RestUrl, replicas[0].AdminKey)).ToArray();
            try
            {
                return await RunAsync(scratch, replicas, admins);
            }
            finally
            {
                foreach (var admin in admins)
                {
                    admin.Dispose();
                }
            }
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
            await PostgresServer.DropDatabaseAsync(database);
        }
    }

    private async Task<int> RunAsync(ScratchDirectory scratch, IReadOnlyList<BrokerProcess> replicas, IReadOnlyList<AdminClient> admins)
    {
        var userId = await admins[0].CreateUserAsync("fleet");
        var credential = await FleetCredential.CreateAsync(admins[0], userId);
        await Task.Delay(Settle);
        var rssAtZero = replicas.Select(r => ProcessStats.RssKib(r.ProcessId)).ToArray();
        SqliteRun.Progress($"{replicas.Count} replicas on PostgreSQL, RSS with no sidecar {string.Join(", ", rssAtZero.Select(k => $"{k / 1024.0:F0} MiB"))}");

        await using var fleet = new Fleet();
        await using var witnesses = await Witnesses.StartAsync(scratch, admins[0], userId, [.. replicas.Select(r => r.GrpcUrl)], options.Witnesses);
        var brokers = replicas.Select(r => new Uri(r.GrpcUrl)).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var grants = await FleetCredential.CreateWorkspacesAsync(admins[0], userId, 0, options.Sidecars, brokers);
        var created = clock.Elapsed.TotalSeconds;
        SqliteRun.Progress($"{grants.Length} workspaces created in {created:F1} s; connecting their sidecars");
        clock.Restart();
        await fleet.ConnectAsync(grants, options.ConnectParallelism, fill: true);
        SqliteRun.Report($"connect: sidecars={fleet.Count} connected={fleet.ConnectedCount} failed={fleet.FailedToConnect} failed_fills={fleet.FailedFills} workspaces_s={created:F1} connect_s={clock.Elapsed.TotalSeconds:F1} witnesses_connected={await witnesses.ConnectedAsync(TimeSpan.FromSeconds(30))}/{witnesses.Count}");

        var idle = await IdlePhase.RunAsync(fleet, replicas, rssAtZero, Settle, 0, options.IdleWindow, postgres: true);
        SqliteRun.Report(idle.Line);

        var results = new List<string>();
        var restUrls = replicas.Select(r => r.RestUrl).ToArray();
        for (var via = 0; via < replicas.Count; via++)
        {
            var target = via == 0 ? credential : await FleetCredential.CreateAsync(admins[via], userId);
            var revocation = await RevocationPhase.RunAsync(fleet, admins[via], target, restUrls, witnesses, options.RevocationTimeout);
            var all = RevocationPhase.Describe($"revocation_via_{via}", fleet, target, revocation);
            var perReplica = brokers.Select((b, i) => RevocationPhase.Describe($"on_{i}", fleet, target, revocation, s => s.Broker == b));
            SqliteRun.Report($"{all} {string.Join(' ', perReplica)} {RevocationPhase.DescribeReads(revocation)} witnesses_heard={revocation.WitnessesHeard}/{witnesses.Count}");
            results.Add($"via replica {via}: {all[(all.IndexOf(':') + 2)..]}");
        }
        SqliteRun.Report($"row: fleet-pg | PostgreSQL, {replicas.Count} replicas, {fleet.Count} simulated sidecars spread over them (+{witnesses.Count} real): " +
            $"idle CPU per replica up to {idle.CoreShare:P1} of one core (PostgreSQL {idle.PostgresCoreShare:P1}), {idle.KibPerSidecar:F0} KiB per sidecar; " +
            $"shared credential deleted, {string.Join("; ", results)} | p99 <= 1 s via either");
        return 0;
    }
}
