using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Xares.Protos.Broker.V1;

/// <summary>
/// Revocation propagation across replicas: a session on replica A watches its revocation stream
/// (as a sidecar does) while leases it holds are revoked one by one through replica B's REST API.
/// Each sample is from the start of the DELETE on B to the event arriving from A. Revocations
/// are spaced by a random 0–100 ms, so they do not line up with the brokers' 500 ms poll.
/// </summary>
internal static class RevocationPropagation
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: LeaseLoad propagation REST_URL_B GRPC_URL_A ADMIN_KEY_FILE [revocations]");
            return 2;
        }
        using var rest = new HttpClient { BaseAddress = new Uri(args[0]) };
        rest.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(args[2])).Trim());
        var count = args.Length > 3 ? int.Parse(args[3]) : 200;

        var user = await PostAsync<Created>(rest, "/api/v1/users", new { name = "propagation" });
        await PostAsync<Created>(rest, $"/api/v1/users/{user.Id}/credentials",
            new { kind = "git", provider = "generic", url = "https://git.bench.test", username = "bench", secret = "bench-secret-not-real-0123456789" });
        var workspace = await PostAsync<CreatedWorkspace>(rest, "/api/v1/workspaces", new { userId = user.Id, name = "propagation" });
        using var channel = GrpcChannel.ForAddress(args[1]);
        var client = new SidecarBroker.SidecarBrokerClient(channel);
        var grant = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = workspace.BootstrapToken });
        var auth = new Metadata { { "authorization", $"Bearer {grant.SessionToken}" } };

        var leases = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var reply = await client.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "git.bench.test" }, auth);
            leases.Add(reply.Lease.LeaseId);
        }

        var arrived = new Dictionary<string, TaskCompletionSource<long>>();
        foreach (var lease in leases)
        {
            arrived[lease] = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        using var stop = new CancellationTokenSource();
        using var stream = client.WatchRevocations(new WatchRevocationsRequest { AfterSequence = grant.RevocationSequence }, auth, cancellationToken: stop.Token);
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var revocation in stream.ResponseStream.ReadAllAsync(stop.Token))
                {
                    if (arrived.TryGetValue(revocation.TargetId, out var done))
                    {
                        done.TrySetResult(Stopwatch.GetTimestamp());
                    }
                }
            }
            catch (RpcException) when (stop.IsCancellationRequested)
            {
            }
        });
        await Task.Delay(500);

        var samples = new List<double>();
        foreach (var lease in leases)
        {
            await Task.Delay(Random.Shared.Next(0, 100));
            var start = Stopwatch.GetTimestamp();
            (await rest.DeleteAsync($"/api/v1/leases/{lease}")).EnsureSuccessStatusCode();
            var end = await arrived[lease].Task.WaitAsync(TimeSpan.FromSeconds(10));
            samples.Add(Stopwatch.GetElapsedTime(start, end).TotalMilliseconds);
        }
        await stop.CancelAsync();
        await reader;

        var sorted = samples.Order().ToArray();
        double Percentile(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
        Console.WriteLine($"revocations={sorted.Length} p50={Percentile(50):F1}ms p99={Percentile(99):F1}ms max={sorted[^1]:F1}ms");
        return 0;
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
}
