using System.Text.Json;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.RateLimiting;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.RateLimiting;

public sealed class AuthFailureAuditTests
{
    private const string Forged = "xar_AAAAforgedforgedforgedforgedforgedforgedforg";

    [Fact]
    public async Task FailureFlood_OneRecordAtOnceThenOneSummaryWhenTheWindowEnds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(time);
        using var attacker = host.CreateClient(Forged);
        var countedBefore = FailureCounter("rest");

        for (var i = 0; i < 25; i++)
        {
            await (await attacker.GetAsync("/api/v1/users")).ProblemAsync(401);
        }

        var first = Assert.Single(await AuthFailuresAsync(host));
        Assert.Equal("GET /api/v1/users", first.GetProperty("detail").GetString());
        Assert.True(FailureCounter("rest") - countedBefore >= 25, "every failure is still counted in Prometheus");

        time.Advance(TimeSpan.FromSeconds(61)); // the flusher's timer runs on this clock
        var records = await WaitForAsync(host, 2);
        Assert.Equal("24 more failures within 60 s of the first", records[0].GetProperty("detail").GetString()); // newest first
        Assert.DoesNotContain(Forged, JsonSerializer.Serialize(records), StringComparison.Ordinal);

        // The next window starts with a record of its own again.
        await (await attacker.GetAsync("/api/v1/users")).ProblemAsync(401);
        Assert.Equal(3, (await AuthFailuresAsync(host)).Count);
    }

    [Fact]
    public async Task GrpcSessionFailures_AggregatedPerClientToo()
    {
        await using var host = await StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow));
        var grpc = new SidecarBroker.SidecarBrokerClient(host.GrpcChannel);
        var forgedSession = new Metadata { { "authorization", "Bearer xst_" + new string('A', 43) } };

        for (var i = 0; i < 10; i++)
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () => await grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), forgedSession));
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        }

        var record = Assert.Single(await AuthFailuresAsync(host));
        Assert.Equal("sidecar", record.GetProperty("actor").GetString());
    }

    [Fact]
    public async Task Shutdown_WritesTheOpenWindowsSummary()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("xares-authaudit-").FullName;
        try
        {
            var host = await StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), dataDirectory);
            using (var attacker = host.CreateClient(Forged))
            {
                for (var i = 0; i < 5; i++)
                {
                    await (await attacker.GetAsync("/api/v1/users")).ProblemAsync(401);
                }
            }
            await host.DisposeAsync();

            using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "xares.db")}");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT detail FROM audit_log WHERE action = 'auth.failure' ORDER BY seq";
            using var reader = command.ExecuteReader();
            var details = new List<string>();
            while (reader.Read())
            {
                details.Add(reader.GetString(0));
            }
            Assert.Equal(["GET /api/v1/users", "4 more failures within 60 s of the first"], details);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task ManyClients_PastTheTrackingLimit_ShareOneWindow()
    {
        await using var host = await StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow));
        var failures = new AuthFailureAudit(host.Get<WriteQueue>(), host.Get<AuditChain>(), host.Get<BrokerOptions>(), TimeProvider.System, maxClients: 2);

        foreach (var address in new[] { "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5" })
        {
            await failures.RecordAsync("api", address, "GET /api/v1/users");
        }
        await failures.FlushAsync(all: true);

        var records = await AuthFailuresAsync(host);
        Assert.Equal(4, records.Count); // two tracked clients, the shared window's first failure, its summary
        Assert.Equal("2 more failures from clients past the tracking limit within 60 s of the first", records[0].GetProperty("detail").GetString());
        Assert.Equal(["192.0.2.1", "192.0.2.2", null, null], records.Select(r => r.GetProperty("remoteAddress").GetString()).Reverse());
    }

    private static Task<BrokerTestHost> StartAsync(FakeTimeProvider time, string? dataDirectory = null) =>
        BrokerTestHost.StartAsync(
            o => (dataDirectory is null ? o : o with { DataDirectory = dataDirectory }) with { AuthFailureLimit = 1000, AuthFailureAddressLimit = 1000 },
            services => services.AddSingleton<TimeProvider>(time));

    private static async Task<List<JsonElement>> AuthFailuresAsync(BrokerTestHost host)
    {
        var body = await (await host.Admin.GetAsync("/api/v1/audit?action=auth.failure")).JsonAsync(200);
        return [.. body.GetProperty("items").EnumerateArray()];
    }

    private static async Task<List<JsonElement>> WaitForAsync(BrokerTestHost host, int count)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var records = await AuthFailuresAsync(host);
            if (records.Count >= count)
            {
                return records;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"fewer than {count} auth.failure records after 5 s");
    }

    // Process-wide and shared with tests running alongside: only differences are asserted.
    private static double FailureCounter(string surface) => BrokerMetrics.AuthFailures.WithLabels(surface).Value;
}
