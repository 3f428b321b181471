using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Hosting;
using Xares.Broker.Leases;
using Xares.Broker.Retention;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;
using Xares.DevKit;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Storage;

/// <summary>
/// Retention of ended state (`--ended-retention-days`) in a running broker, on SQLite and
/// PostgreSQL: what ended long enough ago goes, what is live keeps working, the audit trail stays whole.
/// </summary>
public abstract class EndedStateRetentionContractTests(StorageBackend backend)
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task HourlyPass_AfterTheRetention_DeletesEndedStateAndLiveSessionsKeepWorking()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await StartAsync(db);
        var user = await broker.CreateUserAsync();
        await broker.CreateGitCredentialAsync(user, "https://git.example.com", "bot", "tok_retention_0123456789");
        var old = await (await SidecarClient.CreateWorkspaceAsync(broker, user)).OpenAsync();
        var oldAuth = old.Auth;
        await old.RefreshAsync();
        var oldLeases = new[] { (await old.GetAsync("https", "git.example.com")).Lease.LeaseId, (await old.GetAsync("https", "git.example.com")).Lease.LeaseId };
        Assert.Equal(HttpStatusCode.NoContent, (await broker.Admin.DeleteAsync($"/api/v1/leases/{oldLeases[0]}")).StatusCode);
        var neverOpened = await SidecarClient.CreateWorkspaceAsync(broker, user);

        // Past the old session's hard end (24 h) plus the retention.
        _clock.Advance(broker.Get<BrokerOptions>().EndedStateRetention + TimeSpan.FromDays(2));
        var current = await (await SidecarClient.CreateWorkspaceAsync(broker, user)).OpenAsync();
        var currentLeases = new[] { (await current.GetAsync("https", "git.example.com")).Lease.LeaseId, (await current.GetAsync("https", "git.example.com")).Lease.LeaseId };
        Assert.Equal(HttpStatusCode.NoContent, (await broker.Admin.DeleteAsync($"/api/v1/leases/{currentLeases[0]}")).StatusCode);
        // The next hourly pass (the one the jump above set off may have run before the newer
        // revocation existed, and the newest revocation record always stays). The live sidecar
        // refreshes its session on the way, as a real one does.
        _clock.Advance(TimeSpan.FromMinutes(50));
        await current.RefreshAsync();
        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.True(await Poll.UntilAsync(
                async () => (await LeaseIdsAsync(broker)).Order().SequenceEqual(currentLeases.Order()) && CountRevocationsOf(broker, oldLeases[0]) == 0,
                TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50)),
            "The hourly retention pass did not delete the ended state within 15 s.");

        using (var connection = broker.Get<Database>().Open())
        {
            Assert.Equal(0L, Count(connection, $"SELECT COUNT(*) FROM sessions WHERE workspace_id = '{old.WorkspaceId}'"));
            Assert.Equal(0L, Count(connection, "SELECT COUNT(*) FROM session_tokens t LEFT JOIN sessions s ON s.id = t.session_id WHERE s.id IS NULL"));
            Assert.Equal(0L, Count(connection, $"SELECT COUNT(*) FROM bootstrap_tokens WHERE workspace_id IN ('{old.WorkspaceId}', '{neverOpened.WorkspaceId}')"));
        }
        // The old session's tokens are unknown now, and refused; the live session gets leases and
        // hears revocations from its start (the pruned records are not missed: their leases expired).
        var refused = await Assert.ThrowsAsync<RpcException>(() => old.Grpc.GetGitCredentialAsync(
            new GitCredentialRequest { Protocol = "https", Host = "git.example.com" }, oldAuth).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(GitCredentialReply.ResultOneofCase.Lease, (await current.GetAsync("https", "git.example.com")).ResultCase);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var stream = current.Grpc.WatchRevocations(new WatchRevocationsRequest { AfterSequence = 0 }, current.Auth, cancellationToken: stop.Token);
        Assert.True(await stream.ResponseStream.MoveNext(stop.Token));
        Assert.Equal(currentLeases[0], stream.ResponseStream.Current.TargetId);
        // Retention removes working state only: the audit trail of all of it is whole.
        var verify = JsonDocument.Parse(await broker.Admin.GetStringAsync("/api/v1/audit/verify")).RootElement;
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
        Assert.Contains(oldLeases[1], await broker.Admin.GetStringAsync("/api/v1/audit?action=lease.issue&limit=1000"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_MoreThanOneChunk_DeletesEveryExpiredLeaseAndNothingLive()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await StartAsync(db);
        var user = await broker.CreateUserAsync();
        var credential = await broker.CreateGitCredentialAsync(user, "https://git.example.com", "bot", "tok_retention_0123456789");
        var workspace = await SidecarClient.CreateWorkspaceAsync(broker, user);
        var now = _clock.GetUtcNow();
        var expired = now - broker.Get<BrokerOptions>().EndedStateRetention - TimeSpan.FromMinutes(1);
        var expiredCount = 2 * EndedStatePruner.ChunkSize + 5;
        await broker.Get<WriteQueue>().ExecuteAsync((c, t) =>
        {
            for (var i = 0; i < expiredCount + 3; i++)
            {
                var expiresAt = i < expiredCount ? expired : now + TimeSpan.FromMinutes(i);
                LeaseStore.Insert(c, t, new LeaseRecord($"lease_bulk{i:D5}", workspace.WorkspaceId, "ses_bulk", credential, 1, expiresAt - TimeSpan.FromMinutes(15), expiresAt, null, null));
            }
        });

        await broker.Get<EndedStatePruner>().PruneAsync();

        using var connection = broker.Get<Database>().Open();
        Assert.Equal(["lease_bulk04005", "lease_bulk04006", "lease_bulk04007"],
            Sql.Query(connection, null, "SELECT id FROM leases ORDER BY id", r => r.GetString(0)));
    }

    [Fact]
    public async Task Prune_LeasesOutliveTheRetention_RevocationsStayUntilTheirLeasesExpired()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        // An unusual set-up: leases live longer than ended state is kept.
        await using var broker = await StartAsync(db, leaseLifetime: TimeSpan.FromDays(10));
        var user = await broker.CreateUserAsync();
        await broker.CreateGitCredentialAsync(user, "https://git.example.com", "bot", "tok_retention_0123456789");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(broker, user)).OpenAsync();
        var lease = (await sidecar.GetAsync("https", "git.example.com")).Lease.LeaseId;
        var later = (await sidecar.GetAsync("https", "git.example.com")).Lease.LeaseId;
        Assert.Equal(HttpStatusCode.NoContent, (await broker.Admin.DeleteAsync($"/api/v1/leases/{lease}")).StatusCode);
        // A newer revocation, since the newest record always stays.
        Assert.Equal(HttpStatusCode.NoContent, (await broker.Admin.DeleteAsync($"/api/v1/leases/{later}")).StatusCode);

        _clock.Advance(TimeSpan.FromDays(8));
        await broker.Get<EndedStatePruner>().PruneAsync();
        Assert.Equal(1L, CountRevocationsOf(broker, lease));

        _clock.Advance(TimeSpan.FromDays(3));
        await broker.Get<EndedStatePruner>().PruneAsync();
        Assert.Equal(0L, CountRevocationsOf(broker, lease));
    }

    [Fact]
    public async Task Prune_AiRequestGrants_GoWithTheirLeaseOnceTheirMonthIsOver()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await StartAsync(db);
        var user = await broker.CreateUserAsync();
        await broker.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials", new { kind = "ai", provider = "openai", secret = "sk-retention-0123456789" });
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(broker, user)).OpenAsync();
        var old = (await sidecar.Grpc.GetAiCredentialAsync(new AiCredentialRequest { Provider = "openai", Mode = "proxy" }, sidecar.Auth)).Lease.LeaseId;

        // In a later month (and past the retention): the old lease row is pruned, and with it its grants; a new lease's grants stay.
        _clock.Advance(TimeSpan.FromDays(40));
        var later = await (await SidecarClient.CreateWorkspaceAsync(broker, user)).OpenAsync();
        var fresh = (await later.Grpc.GetAiCredentialAsync(new AiCredentialRequest { Provider = "openai", Mode = "proxy" }, later.Auth)).Lease.LeaseId;
        // (The hourly pass may have run already as the clock moved on.)
        await broker.Get<EndedStatePruner>().PruneAsync();

        using var connection = broker.Get<Database>().Open();
        Assert.Equal([fresh], Sql.Query(connection, null, "SELECT lease_id FROM ai_request_grants ORDER BY lease_id", r => r.GetString(0)));
        Assert.NotEqual(old, fresh);
    }

    private Task<BrokerTestHost> StartAsync(ContractDatabase db, TimeSpan? leaseLifetime = null) =>
        BrokerTestHost.StartAsync(
            // The admin key outlives the days these tests skip.
            o => o with
            {
                DataDirectory = db.Directory, Database = db.ConnectionString, LeaseLifetime = leaseLifetime ?? o.LeaseLifetime,
                InitialAdminKeyLifetime = TimeSpan.FromDays(60),
            },
            s => s.AddSingleton<TimeProvider>(_clock));

    private static async Task<List<string>> LeaseIdsAsync(BrokerTestHost broker)
    {
        var list = JsonDocument.Parse(await broker.Admin.GetStringAsync("/api/v1/leases?includeEnded=true&limit=1000")).RootElement;
        return list.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("id").GetString()!).ToList();
    }

    private static long CountRevocationsOf(BrokerTestHost broker, string targetId)
    {
        using var connection = broker.Get<Database>().Open();
        return Count(connection, $"SELECT COUNT(*) FROM revocations WHERE target_id = '{targetId}'");
    }

    private static long Count(System.Data.Common.DbConnection connection, string sql) => Convert.ToInt64(Sql.Scalar(connection, null, sql));
}

public sealed class SqliteEndedStateRetentionContractTests() : EndedStateRetentionContractTests(new SqliteBackend());

public sealed class PostgresEndedStateRetentionContractTests() : EndedStateRetentionContractTests(new PostgresBackend());
