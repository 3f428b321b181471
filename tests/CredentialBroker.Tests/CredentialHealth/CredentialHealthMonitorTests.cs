using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Xares.Broker.CredentialHealth;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Storage;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.CredentialHealth;

/// <summary>
/// The background re-test job on both backends: it tests what is due (never tested, flagged by a
/// git rejection, or older than the interval), records health, and runs only on the lease holder.
/// </summary>
public abstract class CredentialHealthMonitorTests(StorageBackend backend)
{
    private const string Secret = CredentialHealthEndpointsTests.GitSecret;

    [Fact]
    public async Task RunPass_TestsDueCredentialsOnceAndFlaggedOnesAgain()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        await using var github = await CredentialHealthEndpointsTests.GitHubEnterpriseAsync();
        await using var gitea = await FakeProvider.StartAsync(app => app.MapGet("/api/v1/user", FakeProvider.Guarded("Authorization", "token other", "{}")));
        await using var host = await BrokerTestHost.StartAsync(o => o with { Database = db.ConnectionString, OutboundAllow = ["127.0.0.1"], CredentialTestInterval = TimeSpan.Zero });
        var user = await host.CreateUserAsync();
        var good = await CredentialHealthEndpointsTests.CreateAsync(host, user,
            new { kind = "git", provider = "github", url = github.Origin, username = "x", secret = Secret });
        var bad = await CredentialHealthEndpointsTests.CreateAsync(host, user,
            new { kind = "git", provider = "gitea", url = gitea.Origin + "/org", username = "x", secret = Secret });
        var monitor = Monitor(host, "replica-a");

        Assert.Equal(2, await monitor.RunPassAsync(CancellationToken.None));
        Assert.Equal(0, await monitor.RunPassAsync(CancellationToken.None));
        var statuses = (await CredentialHealthEndpointsTests.ItemsAsync(host.Admin, $"/api/v1/users/{user}/credentials"))
            .ToDictionary(c => c.Str("id"), c => c.GetProperty("health").Str("status"));
        Assert.Equal("active", statuses[good]);
        Assert.Equal("error", statuses[bad]);

        await Task.Delay(5);
        await host.Get<WriteQueue>().ExecuteAsync((c, t) =>
            Sql.Execute(c, t, "UPDATE credentials SET flagged_at = @now WHERE id = @id", ("@now", DateTimeOffset.UtcNow.ToDb()), ("@id", good)));
        var requestsBefore = github.Requests.Count;

        Assert.Equal(1, await monitor.RunPassAsync(CancellationToken.None));
        Assert.Equal(requestsBefore + 1, github.Requests.Count);
        Assert.Equal(0, await monitor.RunPassAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RunPass_AnotherReplicaHoldsTheLease_TestsNothing()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        await using var github = await CredentialHealthEndpointsTests.GitHubEnterpriseAsync();
        await using var host = await BrokerTestHost.StartAsync(o => o with { Database = db.ConnectionString, OutboundAllow = ["127.0.0.1"], CredentialTestInterval = TimeSpan.Zero });
        var user = await host.CreateUserAsync();
        await CredentialHealthEndpointsTests.CreateAsync(host, user, new { kind = "git", provider = "github", url = github.Origin, username = "x", secret = Secret });
        Assert.True(await Lease(host, "replica-a").TryAcquireAsync());

        Assert.Equal(0, await Monitor(host, "replica-b").RunPassAsync(CancellationToken.None));
        Assert.Empty(github.Requests);
        Assert.Equal(1, await Monitor(host, "replica-a").RunPassAsync(CancellationToken.None));
    }

    private static LeaderLease Lease(BrokerTestHost host, string holder) =>
        new(host.Get<WriteQueue>(), TimeProvider.System, CredentialHealthEndpoints.LeaseName, holder, TimeSpan.FromMinutes(2));

    private static CredentialHealthMonitor Monitor(BrokerTestHost host, string holder) =>
        ActivatorUtilities.CreateInstance<CredentialHealthMonitor>(host.Services, Lease(host, holder),
            host.Get<BrokerOptions>() with { CredentialTestInterval = TimeSpan.FromHours(6) });
}

public sealed class SqliteCredentialHealthMonitorTests() : CredentialHealthMonitorTests(new SqliteBackend());

public sealed class PostgresCredentialHealthMonitorTests() : CredentialHealthMonitorTests(new PostgresBackend());
