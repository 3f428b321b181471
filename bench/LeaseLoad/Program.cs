using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Xares.Protos.Broker.V1;

// Lease-issue load against a running broker: N workspaces (one session each) asking for a git
// credential in a closed loop. Every request is a cache miss by construction (the sidecar cache is
// not involved), so each one is a full issue: session check, match, decrypt, lease row and audit
// record committed. Prints throughput and latency percentiles.
//
// GRPC_URL may list several broker replicas (comma-separated): sessions are spread over them
// round-robin, as sidecars would be spread over replicas behind a load balancer.
//
// usage: LeaseLoad REST_URL GRPC_URL[,GRPC_URL…] ADMIN_KEY_FILE [sessions=64] [seconds=10] [warmup-seconds=2]
//        LeaseLoad propagation REST_URL_B GRPC_URL_A ADMIN_KEY_FILE [revocations=200]
//        LeaseLoad minted REST_URL GRPC_URL ADMIN_KEY_FILE [sessions=32] [seconds=10] [warmup=5] [cold-workers=4] [latency-ms=50] [rounds=3]
if (args.Length > 0 && args[0] == "propagation")
{
    return await RevocationPropagation.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "minted")
{
    return await MintedFill.RunAsync(args[1..]);
}
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: LeaseLoad REST_URL GRPC_URL ADMIN_KEY_FILE [sessions] [seconds] [warmup-seconds]");
    return 2;
}
var restUrl = args[0];
var grpcUrl = args[1];
var adminKey = (await File.ReadAllTextAsync(args[2])).Trim();
var sessions = args.Length > 3 ? int.Parse(args[3]) : 64;
var seconds = args.Length > 4 ? int.Parse(args[4]) : 10;
var warmupSeconds = args.Length > 5 ? int.Parse(args[5]) : 2;

using var rest = new HttpClient { BaseAddress = new Uri(restUrl) };
rest.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
var user = await PostAsync<Created>("/api/v1/users", new { name = "bench" });
await PostAsync<Created>($"/api/v1/users/{user.Id}/credentials",
    new { kind = "git", provider = "generic", url = "https://git.bench.test", username = "bench", secret = "bench-secret-not-real-0123456789" });

var clients = grpcUrl.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
    .Select(url => new SidecarBroker.SidecarBrokerClient(GrpcChannel.ForAddress(url, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionLifetime = Timeout.InfiniteTimeSpan },
    })))
    .ToArray();
var auth = new List<(SidecarBroker.SidecarBrokerClient Client, Metadata Metadata)>();
for (var i = 0; i < sessions; i++)
{
    var client = clients[i % clients.Length];
    var workspace = await PostAsync<CreatedWorkspace>("/api/v1/workspaces", new { userId = user.Id, name = $"bench-{i}" });
    var grant = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = workspace.BootstrapToken });
    auth.Add((client, new Metadata { { "authorization", $"Bearer {grant.SessionToken}" } }));
}

var request = new GitCredentialRequest { Protocol = "https", Host = "git.bench.test", Path = "org/repo.git" };
async Task<List<double>> Worker((SidecarBroker.SidecarBrokerClient Client, Metadata Metadata) session, TimeSpan duration)
{
    var latencies = new List<double>();
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed < duration)
    {
        var start = Stopwatch.GetTimestamp();
        var reply = await session.Client.GetGitCredentialAsync(request, session.Metadata);
        latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        if (reply.ResultCase != GitCredentialReply.ResultOneofCase.Lease)
        {
            throw new InvalidOperationException("Expected a lease.");
        }
    }
    return latencies;
}

// Warm-up (the broker's JIT reaches its steady state within seconds), then the measured run.
await Task.WhenAll(auth.Select(a => Worker(a, TimeSpan.FromSeconds(warmupSeconds))));
var total = Stopwatch.StartNew();
var results = await Task.WhenAll(auth.Select(a => Worker(a, TimeSpan.FromSeconds(seconds))));
var elapsed = total.Elapsed.TotalSeconds;
var all = results.SelectMany(r => r).Order().ToArray();
double Percentile(double p) => all[Math.Min(all.Length - 1, (int)Math.Ceiling(p / 100 * all.Length) - 1)];
Console.WriteLine($"replicas={clients.Length} sessions={sessions} seconds={elapsed:F1} leases={all.Length} rate={all.Length / elapsed:F0}/s p50={Percentile(50):F2}ms p99={Percentile(99):F2}ms max={all[^1]:F2}ms");
return 0;

async Task<T> PostAsync<T>(string path, object body)
{
    var response = await rest.PostAsJsonAsync(path, body);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
    return (await response.Content.ReadFromJsonAsync<T>())!;
}

internal sealed record Created(string Id);

internal sealed record CreatedWorkspace(string Id, string BootstrapToken);
