using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Net.Client;
using Xares.DevGitServer.GitHub;
using Xares.Protos.Broker.V1;

/// <summary>
/// Minted GitHub App tokens under the lease-issue load, side by side with static credentials, in
/// one broker run. The GitHub API stand-in runs in this process and answers after a fixed latency.
/// Phases, each a closed loop of GetGitCredential calls as sidecars make them:
/// static (workspaces without repositories: a stored token), minted-warm (workspaces naming
/// acme/app, each token minted in the warm-up and reused) and oauth-warm (workspaces of a user with
/// an OAuth connection, its access token fetched at connect and reused), alternated for a number of
/// rounds and pooled; then cold, in which workers each take a fresh workspace whose first fill
/// mints while the static sessions keep up their load. Mints are counted by the stand-in (POST
/// …/access_tokens), refreshes by the OAuth stand-in's token endpoint.
/// </summary>
internal static class MintedFill
{
    private const string AppId = "4242";
    private const string GitHost = "github.bench.test";
    private const string OAuthHost = "oauth.bench.test";
    private static readonly Fill Static = new(new() { Protocol = "https", Host = "git.bench.test", Path = "org/repo.git" }, "bench");
    private static readonly Fill Minted = new(new() { Protocol = "https", Host = GitHost, Path = "acme/app.git" }, "x-access-token");
    private static readonly Fill OAuth = new(new() { Protocol = "https", Host = OAuthHost, Path = "acme/app.git" }, "oauth2");

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: LeaseLoad minted REST_URL GRPC_URL ADMIN_KEY_FILE [sessions=32] [seconds=10] [warmup=5] [cold-workers=4] [latency-ms=50] [rounds=3]");
            return 2;
        }
        var sessions = Arg(args, 3, 32);
        var seconds = Arg(args, 4, 10);
        var warmup = Arg(args, 5, 5);
        var coldWorkers = Arg(args, 6, 4);
        var latency = TimeSpan.FromMilliseconds(Arg(args, 7, 50));
        var rounds = Arg(args, 8, 3);

        await using var github = await GitHubApiStandIn.StartAsync();
        github.Latency = latency;
        using var appKey = RSA.Create(2048);
        using var verifying = RSA.Create();
        verifying.ImportSubjectPublicKeyInfo(appKey.ExportSubjectPublicKeyInfo(), out _);
        github.AddApp(AppId, verifying);
        github.AddInstallation(new StandInInstallation(77, AppId, "acme", ["app"]));
        await using var oauth = await OAuthStandIn.StartAsync(latency);

        using var rest = new HttpClient { BaseAddress = new Uri(args[0]) };
        rest.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(args[2])).Trim());
        var user = await PostAsync<Created>(rest, "/api/v1/users", new { name = "bench" });
        await PostAsync<Created>(rest, $"/api/v1/users/{user.Id}/credentials",
            new { kind = "git", provider = "generic", url = "https://git.bench.test", username = "bench", secret = "bench-secret-not-real-0123456789" });
        // The installation is left for the broker to find (GET /repos/acme/app/installation, once, in the warm-up).
        await PostAsync<Created>(rest, "/api/v1/github-apps", new
        {
            name = "bench app", appId = int.Parse(AppId), privateKey = appKey.ExportRSAPrivateKeyPem(), apiUrl = github.Origin, gitUrl = $"https://{GitHost}",
        });

        var oauthUser = await ConnectAsync(rest, oauth);

        using var channel = GrpcChannel.ForAddress(args[1], new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionLifetime = Timeout.InfiniteTimeSpan },
        });
        var client = new SidecarBroker.SidecarBrokerClient(channel);
        async Task<Metadata> OpenAsync(string name, bool minted, string? owner = null)
        {
            var workspace = await PostAsync<CreatedWorkspace>(rest, "/api/v1/workspaces", minted
                ? new { userId = user.Id, name, repositories = new[] { new { host = GitHost, name = "acme/app", access = "write" } } }
                : (object)new { userId = owner ?? user.Id, name });
            var grant = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = workspace.BootstrapToken });
            return new Metadata { { "authorization", $"Bearer {grant.SessionToken}" } };
        }
        var statics = await OpenManyAsync(sessions, i => OpenAsync($"static-{i}", minted: false));
        var warm = await OpenManyAsync(sessions, i => OpenAsync($"warm-{i}", minted: true));
        var connected = await OpenManyAsync(sessions, i => OpenAsync($"oauth-{i}", minted: false, oauthUser));
        // Fresh workspaces for the cold phase, opened beforehand so that phase times the fills only.
        // Sized for every cold worker minting back to back at the stand-in's latency for the whole phase.
        var coldPool = 2 * seconds * coldWorkers * (int)(1000 / Math.Max(1, latency.TotalMilliseconds)) + 2 * coldWorkers + 16;
        var cold = new Queue<Metadata>(await OpenManyAsync(coldPool, i => OpenAsync($"cold-{i}", minted: true)));

        // Warm-up: both loads at once (the warm workspaces' first fills mint here), and a few cold fills.
        await Task.WhenAll(
            Loop(client, statics, Static, TimeSpan.FromSeconds(warmup)),
            Loop(client, warm, Minted, TimeSpan.FromSeconds(warmup)),
            Loop(client, connected, OAuth, TimeSpan.FromSeconds(warmup)),
            ColdLoop(client, cold, 2 * coldWorkers, coldWorkers, TimeSpan.FromSeconds(warmup)));

        var staticRuns = new List<Run>();
        var warmRuns = new List<Run>();
        var oauthRuns = new List<Run>();
        var warmMints = 0;
        var refreshes = 0;
        Func<Task>[] phases =
        [
            async () => staticRuns.Add(await Loop(client, statics, Static, TimeSpan.FromSeconds(seconds))),
            async () =>
            {
                var before = github.Mints.Count;
                warmRuns.Add(await Loop(client, warm, Minted, TimeSpan.FromSeconds(seconds)));
                warmMints += github.Mints.Count - before;
            },
            async () =>
            {
                var before = oauth.TokenCalls;
                oauthRuns.Add(await Loop(client, connected, OAuth, TimeSpan.FromSeconds(seconds)));
                refreshes += oauth.TokenCalls - before;
            },
        ];
        // Each round starts with the next phase, so no kind always runs first (right after the warm-up) or last.
        for (var round = 0; round < rounds; round++)
        {
            for (var phase = 0; phase < phases.Length; phase++)
            {
                await phases[(round + phase) % phases.Length]();
            }
        }
        Console.WriteLine($"static {Describe(staticRuns)}");
        Console.WriteLine($"minted-warm {Describe(warmRuns)} mints={warmMints}");
        Console.WriteLine($"oauth-warm {Describe(oauthRuns)} refreshes={refreshes}");

        // Cold fills alone first: the broker's CPU per fill that mints, with nothing else running in it. The broker
        // also spends CPU while idle (background workers, the JIT and GC catching up after load): measured
        // over 5 s right before, and taken off the phase's CPU for the net figure.
        var idleBefore = BrokerCpuSeconds();
        await Task.Delay(TimeSpan.FromSeconds(5));
        var idlePerSecond = (BrokerCpuSeconds() - idleBefore) / 5;
        var alone = await ColdLoop(client, cold, int.MaxValue, coldWorkers, TimeSpan.FromSeconds(seconds));
        Console.WriteLine($"minted-cold-alone workers={coldWorkers} fills={alone.Latencies.Length} p50={alone.Percentile(50):F2}ms p99={alone.Percentile(99):F2}ms "
            + $"broker_cpu_per_fill={alone.BrokerCpu * 1000 / alone.Latencies.Length:F3}ms broker_idle_cpu={idlePerSecond * 1000:F0}ms/s "
            + $"broker_cpu_per_fill_net={(alone.BrokerCpu - idlePerSecond * alone.Seconds) * 1000 / alone.Latencies.Length:F3}ms "
            + $"mints_per_min={alone.Latencies.Length / alone.Seconds * 60:F0}");

        var coldMintsBefore = github.Mints.Count;
        var load = Loop(client, statics, Static, TimeSpan.FromSeconds(seconds));
        var coldRun = await ColdLoop(client, cold, int.MaxValue, coldWorkers, TimeSpan.FromSeconds(seconds));
        var underLoad = await load;
        var mints = github.Mints.Count - coldMintsBefore;
        Console.WriteLine($"minted-cold workers={coldWorkers} fills={coldRun.Latencies.Length} p50={coldRun.Percentile(50):F2}ms p99={coldRun.Percentile(99):F2}ms "
            + $"max={coldRun.Latencies[^1]:F2}ms mints={mints} mints_per_min={mints / coldRun.Seconds * 60:F0} pool_left={cold.Count} latency={latency.TotalMilliseconds:F0}ms");
        Console.WriteLine($"static-under-mints {Describe([underLoad])}");
        if (cold.Count == 0)
        {
            Console.Error.WriteLine("LeaseLoad: the cold workers used up every fresh workspace before the time was up: mints_per_min is a lower bound.");
        }
        return 0;
    }

    private static int Arg(string[] args, int index, int fallback) => args.Length > index ? int.Parse(args[index]) : fallback;

    private static async Task<List<Metadata>> OpenManyAsync(int count, Func<int, Task<Metadata>> open)
    {
        var opened = new Metadata[count];
        // A few at a time: setup, not part of any figure.
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) => opened[i] = await open(i));
        return [.. opened];
    }

    /// <summary>Every session asks in a closed loop for <paramref name="duration"/>.</summary>
    private static async Task<Run> Loop(SidecarBroker.SidecarBrokerClient client, IReadOnlyList<Metadata> sessions, Fill fill, TimeSpan duration)
    {
        var cpuBefore = BrokerCpuSeconds();
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(sessions.Select(async session =>
        {
            var latencies = new List<double>();
            while (clock.Elapsed < duration)
            {
                latencies.Add(await FillAsync(client, session, fill));
            }
            return latencies;
        }));
        return new Run(sessions.Count, clock.Elapsed.TotalSeconds, [.. results.SelectMany(r => r).Order()]) { BrokerCpu = BrokerCpuSeconds() - cpuBefore };
    }

    /// <summary>
    /// The broker's CPU time so far (user + system, /proc/PID/stat), when BENCH_BROKER_PID names it:
    /// CPU per lease hardly depends on what else runs on the machine, unlike rates and latencies.
    /// </summary>
    private static double BrokerCpuSeconds()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("BENCH_BROKER_PID"), out var pid))
        {
            return double.NaN;
        }
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th; 100 ticks a second on Linux.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
    }

    /// <summary><paramref name="workers"/> closed loops, each fill on a fresh workspace, until the time or <paramref name="limit"/> fills are used up.</summary>
    private static async Task<Run> ColdLoop(SidecarBroker.SidecarBrokerClient client, Queue<Metadata> pool, int limit, int workers, TimeSpan duration)
    {
        var cpuBefore = BrokerCpuSeconds();
        var clock = Stopwatch.StartNew();
        var taken = 0;
        var results = await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            var latencies = new List<double>();
            while (clock.Elapsed < duration)
            {
                Metadata? session;
                lock (pool)
                {
                    session = taken < limit && pool.TryDequeue(out var next) ? next : null;
                    taken++;
                }
                if (session is null)
                {
                    break;
                }
                latencies.Add(await FillAsync(client, session, Minted));
            }
            return latencies;
        }));
        return new Run(workers, clock.Elapsed.TotalSeconds, [.. results.SelectMany(r => r).Order()]) { BrokerCpu = BrokerCpuSeconds() - cpuBefore };
    }

    private static async Task<double> FillAsync(SidecarBroker.SidecarBrokerClient client, Metadata session, Fill fill)
    {
        var start = Stopwatch.GetTimestamp();
        var reply = await client.GetGitCredentialAsync(fill.Request, session);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        // The username tells which source answered: a fall-through to another source would be measured as the wrong one.
        if (reply.ResultCase != GitCredentialReply.ResultOneofCase.Lease || reply.Lease.Username != fill.Username)
        {
            throw new InvalidOperationException($"Expected a lease for {fill.Username} from {fill.Request.Host}, got {reply.ResultCase}.");
        }
        return elapsed;
    }

    /// <summary>A user connected to the OAuth stand-in through the device flow (approved at once); returns the user's id.</summary>
    private static async Task<string> ConnectAsync(HttpClient rest, OAuthStandIn oauth)
    {
        await PostAsync<Created>(rest, "/api/v1/oauth-providers", new
        {
            name = "bench-oauth", kind = "generic", tokenUrl = oauth.Origin + "/token", deviceAuthorizationUrl = oauth.Origin + "/device",
            clientId = "bench", clientSecret = "bench-client-secret-not-real", gitUrl = $"https://{OAuthHost}", gitUsername = "oauth2",
        });
        var user = await PostAsync<Created>(rest, "/api/v1/users", new { name = "bench-oauth" });
        var connection = await PostAsync<Created>(rest, $"/api/v1/users/{user.Id}/connections", new { providerId = "bench-oauth" });
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var state = await rest.GetFromJsonAsync<ConnectionState>($"/api/v1/connections/{connection.Id}");
            if (state?.Status == "active")
            {
                return user.Id;
            }
            await Task.Delay(200);
        }
        throw new InvalidOperationException("The OAuth connection did not become active within 20 s.");
    }

    private static string Describe(IReadOnlyList<Run> runs)
    {
        var all = runs.SelectMany(r => r.Latencies).Order().ToArray();
        var pooled = new Run(runs[0].Sessions, runs.Sum(r => r.Seconds), all);
        return $"sessions={pooled.Sessions} rounds={runs.Count} seconds={pooled.Seconds:F1} leases={all.Length} rate={all.Length / pooled.Seconds:F0}/s "
            + $"p50={pooled.Percentile(50):F2}ms p99={pooled.Percentile(99):F2}ms max={all[^1]:F2}ms "
            + $"broker_cpu_per_lease={runs.Sum(r => r.BrokerCpu) * 1000 / all.Length:F3}ms "
            // Each round's own figures show how far the machine's drift moves them.
            + $"per_round={string.Join(',', runs.Select(r => $"{r.Latencies.Length / r.Seconds:F0}/s@p50:{r.Percentile(50):F1}ms"))}";
    }

    private static async Task<T> PostAsync<T>(HttpClient rest, string path, object body)
    {
        var response = await rest.PostAsJsonAsync(path, body);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }

    private sealed record Fill(GitCredentialRequest Request, string Username);

    private sealed record ConnectionState(string Status);

    private sealed record Run(int Sessions, double Seconds, double[] Latencies)
    {
        public double BrokerCpu { get; init; } = double.NaN;

        public double Percentile(double p) => Latencies.Length == 0 ? double.NaN : Latencies[Math.Min(Latencies.Length - 1, (int)Math.Ceiling(p / 100 * Latencies.Length) - 1)];
    }
}
