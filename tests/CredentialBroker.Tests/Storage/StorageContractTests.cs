using System.Collections.Concurrent;
using System.Data.Common;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.Revocations;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;
using Xares.Broker.Users;
using Xares.Broker.Workspaces;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Storage;

/// <summary>
/// The storage contract: one suite, run against SQLite (<see cref="SqliteStorageContractTests"/>)
/// and PostgreSQL (<see cref="PostgresStorageContractTests"/>). "Replicas" are several broker
/// hosts or write queues on one database, as several broker processes would be.
/// </summary>
public abstract class StorageContractTests(StorageBackend backend)
{
    [Fact]
    public async Task Migrate_RunTwice_ReachesLatestVersionOnce()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        using var database = new Database(db.ConnectionString);

        Assert.Equal(Migrator.LatestVersion, new Migrator(database).Migrate());
        Assert.Equal(Migrator.LatestVersion, new Migrator(database).Migrate());

        using var connection = database.Open();
        // Each migration once (numbers need not be contiguous).
        Assert.Equal((long)Migrator.Names(database.Kind).Count, Convert.ToInt64(Sql.Scalar(connection, null, "SELECT COUNT(*) FROM schema_version")));
    }

    [Fact]
    public async Task WriteQueue_FailingUnitInBatch_ItsAuditRecordIsNotCountedAndTheOthersOnce()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        var (kept, rolledBack) = ($"test.kept.{Guid.NewGuid():N}", $"test.rolled-back.{Guid.NewGuid():N}");
        double Counted(string action) => BrokerMetrics.AuditRecords.WithLabels(action).Value;
        using var release = new ManualResetEventSlim();
        var blocker = HoldWriter(replica, release);

        var counted = replica.Writes.ExecuteAsync((c, t) =>
        {
            replica.Audit.Append(c, t, new AuditEntry(kept, AuditOutcomes.Success));
            return Counted(kept); // not yet: the batch has not committed
        });
        var failing = replica.Writes.ExecuteAsync((c, t) =>
        {
            replica.Audit.Append(c, t, new AuditEntry(rolledBack, AuditOutcomes.Success));
            throw new InvalidOperationException("unit failed after auditing");
        });
        release.Set();
        await blocker;

        Assert.Equal(0, await counted);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        // On PostgreSQL the batch ran twice (the second time without the failing unit): still one.
        Assert.Equal(1, Counted(kept));
        Assert.Equal(0, Counted(rolledBack));
        Assert.True(replica.Verify().Ok);
    }

    [Fact]
    public async Task RepeatedStatement_OnOneConnection_RunsWithEachCallsValues()
    {
        // Statements are cached per connection and (on PostgreSQL) prepared after their second use;
        // every later call must still bind its own values, nulls included.
        await using var db = await ContractDatabase.CreateAsync(backend);
        using var database = new Database(db.ConnectionString);
        using var connection = database.Open();
        Database.Execute(connection, "CREATE TEMP TABLE repeated (n INTEGER NOT NULL, label TEXT)");

        for (var n = 1; n <= 8; n++)
        {
            Sql.Execute(connection, null, "INSERT INTO repeated (n, label) VALUES (@n, @label)", ("@n", n), ("@label", n % 3 == 0 ? null : $"row {n}"));
        }

        var rows = Sql.Query(connection, null, "SELECT n, label FROM repeated ORDER BY n", r => (r.GetInt32(0), r.NullableString(1)));
        Assert.Equal(Enumerable.Range(1, 8).Select(n => (n, n % 3 == 0 ? null : $"row {n}")), rows);
    }

    [Fact]
    public async Task WriteQueue_FailingUnitInBatch_RollsBackAloneWhileOthersCommit()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        using var release = new ManualResetEventSlim();
        var blocker = HoldWriter(replica, release);

        var first = replica.Writes.ExecuteAsync((c, t) => InsertUser(c, t, "usr_first"));
        var failing = replica.Writes.ExecuteAsync((c, t) => { InsertUser(c, t, "usr_failing"); throw new InvalidOperationException("unit failed"); });
        var duplicate = replica.Writes.ExecuteAsync((c, t) => InsertUser(c, t, "usr_first"));
        var last = replica.Writes.ExecuteAsync((c, t) => InsertUser(c, t, "usr_last"));
        release.Set();
        await blocker;

        await first;
        await last;
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        await Assert.ThrowsAnyAsync<DbException>(() => duplicate);
        using var connection = replica.Database.Open();
        Assert.Equal(["usr_first", "usr_last"], UserStore.ListAfter(connection, null, ListingPosition.Start, int.MaxValue).Select(u => u.Id).ToArray());
    }

    [Fact]
    public async Task WriteQueue_HeldBackWriteFails_OnlyItsUnitFailsAndLaterUnitsSeeEarlierWrites()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        using var release = new ManualResetEventSlim();
        var blocker = HoldWriter(replica, release);

        // On PostgreSQL these writes are held back and sent with the next statement; the duplicate
        // fails there, and the batch reruns so that only the unit that wrote it fails.
        var first = replica.Writes.ExecuteAsync((c, t) => WriteUser(c, t, "usr_first"));
        var seen = replica.Writes.ExecuteAsync((c, t) => Convert.ToInt64(Sql.Scalar(c, t, "SELECT COUNT(*) FROM users WHERE id = @id", ("@id", "usr_first"))));
        var duplicate = replica.Writes.ExecuteAsync((c, t) => WriteUser(c, t, "usr_first"));
        var last = replica.Writes.ExecuteAsync((c, t) => WriteUser(c, t, "usr_last"));
        var audited = replica.Writes.ExecuteAsync((c, t) => replica.Audit.Append(c, t, new AuditEntry(AuditActions.LeaseIssue, AuditOutcomes.Success)));
        release.Set();
        await blocker;

        await first;
        Assert.Equal(1, await seen);
        await Assert.ThrowsAnyAsync<DbException>(() => duplicate);
        await last;
        using var connection = replica.Database.Open();
        Assert.Equal(["usr_first", "usr_last"], UserStore.ListAfter(connection, null, ListingPosition.Start, int.MaxValue).Select(u => u.Id).ToArray());
        var verification = replica.Verify();
        Assert.True(verification.Ok, verification.Problem);
        await audited;
        Assert.Equal(AuditActions.LeaseIssue, Sql.Scalar(connection, null, "SELECT action FROM audit_log WHERE seq = @seq", ("@seq", verification.VerifiedRecords)));
    }

    [Fact]
    public async Task WriteQueue_ConditionalWriteMadeStaleByAnEarlierUnit_ItsUnitDecidesAgain()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        await replica.Writes.ExecuteAsync((c, t) => InsertUser(c, t, "usr_target"));
        using var release = new ManualResetEventSlim();
        var blocker = HoldWriter(replica, release);

        // The second unit's condition (name still 'n') is true when it is queued but not once the
        // first unit's write runs before it. On PostgreSQL both are held back and the stale
        // condition is only seen when they are sent: the batch reruns and the unit takes its other branch.
        var renamed = replica.Writes.ExecuteAsync((c, t) => Sql.Write(c, t, "UPDATE users SET name = 'renamed' WHERE id = 'usr_target'"));
        var stale = false;
        var decided = replica.Writes.ExecuteAsync((c, t) =>
            !stale && Sql.WriteIfCurrent(c, t, "UPDATE users SET email = 'claimed' WHERE id = 'usr_target' AND name = 'n'", () => stale = true)
                ? "claimed"
                : Convert.ToString(Sql.Scalar(c, t, "SELECT name FROM users WHERE id = 'usr_target'")));
        // A read sends what is held back (batch lock, rename, claim) with it: the stale claim surfaces there, behind the lock's row.
        var counted = replica.Writes.ExecuteAsync((c, t) => Convert.ToInt64(Sql.Scalar(c, t, "SELECT COUNT(*) FROM users")));
        var after = replica.Writes.ExecuteAsync((c, t) => WriteUser(c, t, "usr_after"));
        release.Set();
        await blocker;

        await renamed;
        Assert.Equal("renamed", await decided);
        Assert.Equal(1, await counted);
        await after;
        using var connection = replica.Database.Open();
        Assert.Null(Sql.Scalar(connection, null, "SELECT email FROM users WHERE id = 'usr_target'"));
        Assert.Equal(["usr_after", "usr_target"], UserStore.ListAfter(connection, null, ListingPosition.Start, int.MaxValue).Select(u => u.Id).Order().ToArray());
    }

    [Fact]
    public async Task LeaseIssue_CredentialDeletedJustBeforeTheLeaseIsWritten_NoLeaseAndTheChainVerifies()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var _ = db;
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var user = await broker.CreateUserAsync("erin");
        var credential = await broker.CreateGitCredentialAsync(user, "https://git.example.com/team", "erin", "tok_contract_000000000002");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(broker, user)).OpenAsync();
        Assert.Equal(GitCredentialReply.ResultOneofCase.Lease, (await sidecar.GetAsync("https", "git.example.com", "team/warm")).ResultCase);
        var writes = broker.Get<WriteQueue>();
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var blocker = writes.ExecuteAsync((c, t) => { started.Set(); release.Wait(TimeSpan.FromSeconds(30)); });
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)));

        // The delete is queued first; the lease request reads the credential (still there) and is
        // queued behind it. On PostgreSQL the lease was decided before the write unit, so its claim
        // must find the credential gone when the batch runs, and the unit decide again.
        var delete = writes.ExecuteAsync((c, t) => Sql.Execute(c, t, "DELETE FROM credentials WHERE id = @id", ("@id", credential)));
        var lease = sidecar.GetAsync("https", "git.example.com", "team/repo");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (writes.Waiting < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }
        Assert.Equal(2, writes.Waiting);
        release.Set();
        await blocker;

        Assert.Equal(1, await delete);
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await lease).ResultCase);
        var leases = JsonDocument.Parse(await broker.Admin.GetStringAsync($"/api/v1/leases?workspaceId={sidecar.WorkspaceId}&includeEnded=true")).RootElement;
        Assert.Equal(1, leases.GetProperty("items").GetArrayLength());
        var verify = JsonDocument.Parse(await broker.Admin.GetStringAsync("/api/v1/audit/verify")).RootElement;
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
    }

    [Fact]
    public async Task LeaseIssue_SeveralCredentialsForTheHost_SameChoiceOnEitherBackend()
    {
        // PostgreSQL reads the session and the candidates in one joined statement, SQLite in two:
        // both must pick the longest matching path, then the oldest, and only the caller's own.
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var _ = db;
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var owner = await broker.CreateUserAsync("frank");
        var other = await broker.CreateUserAsync("grace");
        await broker.CreateGitCredentialAsync(other, "https://git.example.com/team/special", "grace", "tok_contract_other_000000");
        await broker.CreateGitCredentialAsync(owner, "https://git.example.com", "frank", "tok_contract_oldest_00000");
        await broker.CreateGitCredentialAsync(owner, "https://git.example.com", "frank", "tok_contract_younger_0000");
        await broker.CreateGitCredentialAsync(owner, "https://git.example.com/team/special", "frank", "tok_contract_special_0000");
        await broker.CreateGitCredentialAsync(owner, "https://git.example.com:8443/team/repo", "frank", "tok_contract_port_0000000");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(broker, owner)).OpenAsync();

        Assert.Equal("tok_contract_oldest_00000", (await sidecar.GetAsync("https", "git.example.com", "team/repo")).Lease.Secret);
        Assert.Equal("tok_contract_special_0000", (await sidecar.GetAsync("https", "git.example.com", "team/special.git")).Lease.Secret);
        Assert.Equal("tok_contract_port_0000000", (await sidecar.GetAsync("https", "git.example.com:8443", "team/repo")).Lease.Secret);
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAsync("https", "git.example.org", "team/repo")).ResultCase);
        var forged = await Assert.ThrowsAsync<RpcException>(async () => await new SidecarBroker.SidecarBrokerClient(broker.GrpcChannel).GetGitCredentialAsync(
            new GitCredentialRequest { Protocol = "https", Host = "git.example.com", Path = "team/repo" },
            new Metadata { { "authorization", "Bearer xst_" + new string('a', 43) } }));
        Assert.Equal(StatusCode.Unauthenticated, forged.StatusCode);
    }

    [Fact]
    public async Task AuditChain_TwoReplicasAppendingAtOnce_StaysOneVerifiableChain()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replicas = new[] { db.AddReplica(), db.AddReplica() };

        var appends = Enumerable.Range(0, 400).Select(i => replicas[i % 2].Writes.ExecuteAsync((c, t) =>
            replicas[i % 2].Audit.Append(c, t, new AuditEntry(AuditActions.LeaseIssue, AuditOutcomes.Success) { Detail = $"append {i}" })));
        await Task.WhenAll(appends);

        using var connection = replicas[0].Database.Open();
        var stored = Sql.Query(connection, null, "SELECT seq, detail FROM audit_log ORDER BY seq", r => (Sequence: r.GetInt64(0), Detail: r.GetString(1)));
        Assert.Equal(Enumerable.Range(1, 400).Select(i => (long)i), stored.Select(r => r.Sequence));
        Assert.Equal(Enumerable.Range(0, 400).Select(i => $"append {i}").Order(), stored.Select(r => r.Detail).Order());
        var verification = replicas[1].Verify();
        Assert.True(verification.Ok, verification.Problem);
        Assert.Equal(400, verification.VerifiedRecords);
    }

    [Fact]
    public async Task AuditChain_RecordsWaitingInABatch_AreWrittenBeforeTheBatchReadsAndInAppendOrder()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        using var release = new ManualResetEventSlim();
        var blocker = HoldWriter(replica, release);

        // One batch: on PostgreSQL the first two records wait for the chain's end; the read must
        // still see them, and AppendNow numbers its record after them.
        var first = replica.Writes.ExecuteAsync((c, t) => replica.Audit.Append(c, t, new AuditEntry(AuditActions.LeaseIssue, AuditOutcomes.Success) { Detail = "one" }));
        var seen = replica.Writes.ExecuteAsync((c, t) =>
        {
            replica.Audit.Append(c, t, new AuditEntry(AuditActions.LeaseIssue, AuditOutcomes.Success) { Detail = "two" });
            return Convert.ToInt64(Sql.Scalar(c, t, "SELECT COUNT(*) FROM audit_log WHERE detail IN ('one', 'two')"));
        });
        var numbered = replica.Writes.ExecuteAsync((c, t) => replica.Audit.AppendNow(c, t, new AuditEntry(AuditActions.LeaseIssue, AuditOutcomes.Success) { Detail = "three" }));
        release.Set();
        await blocker;
        await first;

        Assert.Equal(2, await seen);
        Assert.Equal(3, (await numbered).Sequence);
        using var connection = replica.Database.Open();
        Assert.Equal(["one", "two", "three"], Sql.Query(connection, null, "SELECT detail FROM audit_log ORDER BY seq", r => r.GetString(0)));
        Assert.True(replica.Verify().Ok);
    }

    [Fact]
    public async Task BootstrapRedeem_100ConcurrentThroughTwoReplicas_ExactlyOneWins()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replicas = new[] { db.AddReplica(), db.AddReplica() };
        var now = DateTimeOffset.UtcNow;
        var token = await replicas[0].Writes.ExecuteAsync((c, t) =>
        {
            InsertUser(c, t, "usr_a");
            WorkspaceStore.Insert(c, t, new WorkspaceRecord("ws_a", "usr_a", "ws", null, now, null, null));
            return BootstrapTokens.Mint(c, t, "ws_a", now, TimeSpan.FromMinutes(5)).Token;
        });

        var redemptions = await Task.WhenAll(Enumerable.Range(0, 100).Select(i =>
            replicas[i % 2].Writes.ExecuteAsync((c, t) => BootstrapTokens.Redeem(c, t, token, DateTimeOffset.UtcNow))));

        Assert.Single(redemptions, r => r == "ws_a");
        Assert.Equal(99, redemptions.Count(r => r is null));
    }

    [Fact]
    public async Task RevocationLog_TwoReplicasAppendingWhileReading_ReaderNeverSkipsOne()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replicas = new[] { db.AddReplica(), db.AddReplica() };
        using var done = new CancellationTokenSource();
        var seen = new List<long>();
        var reader = Task.Run(async () =>
        {
            long last = 0;
            while (true)
            {
                var finished = done.IsCancellationRequested;
                var rows = await replicas[0].Database.ReadAsync(c => RevocationLog.ReadAfter(c, last, "ws_r", "usr_r"));
                foreach (var row in rows)
                {
                    seen.Add(row.Sequence);
                    last = row.Sequence;
                }
                if (finished && rows.Count == 0)
                {
                    return;
                }
            }
        });

        await Task.WhenAll(Enumerable.Range(0, 300).Select(i => replicas[i % 2].Writes.ExecuteAsync((c, t) =>
            replicas[i % 2].Revocations.Append(c, t, RevocationKinds.Lease, $"lease_{i}", workspaceId: "ws_r"))));
        await done.CancelAsync();
        await reader;

        Assert.Equal(300, seen.Count);
        Assert.Equal(seen.Order(), seen);
        using var connection = replicas[0].Database.Open();
        Assert.Equal(seen.Last(), RevocationLog.LatestSequence(connection));
    }

    [Fact]
    public async Task Broker_TwoReplicas_ServeOneStateAndSurviveRestart()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var _ = db;
        BrokerOptions Options(BrokerOptions o) => o with { DataDirectory = db.Directory, Database = db.ConnectionString };
        var a = await BrokerTestHost.StartAsync(Options);
        await using var b = await BrokerTestHost.StartAsync(Options);

        var user = await a.CreateUserAsync("carol");
        var credential = await b.CreateGitCredentialAsync(user, "https://git.example.com/team", "carol", "tok_contract_000000000001", "github");
        await a.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials", new { kind = "ai", provider = "openai", secret = "sk-contract000000000001" });
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(b, user)).OpenAsync();
        var onA = new SidecarBroker.SidecarBrokerClient(a.GrpcChannel);

        var lease = await sidecar.GetAsync("https", "git.example.com", "team/repo");
        Assert.Equal("tok_contract_000000000001", lease.Lease.Secret);
        var leaseViaA = await onA.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "git.example.com", Path = "team/x" }, sidecar.Auth);
        Assert.True(leaseViaA.ResultCase == GitCredentialReply.ResultOneofCase.Lease);
        var leases = JsonDocument.Parse(await a.Admin.GetStringAsync($"/api/v1/leases?workspaceId={sidecar.WorkspaceId}")).RootElement;
        Assert.Equal(2, leases.GetProperty("items").GetArrayLength());

        // Session rotation across replicas: the old token is now a replay, the new one works on either.
        var old = sidecar.Auth;
        await sidecar.RefreshAsync();
        Assert.True((await onA.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "git.example.com", Path = "team/z" }, sidecar.Auth)).ResultCase == GitCredentialReply.ResultOneofCase.Lease);

        // A restart of a replica loses nothing: state is in the database.
        await a.DisposeAsync();
        await using var restarted = await BrokerTestHost.StartAsync(Options);
        var afterRestart = new SidecarBroker.SidecarBrokerClient(restarted.GrpcChannel);
        Assert.True((await afterRestart.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "git.example.com", Path = "team/y" }, sidecar.Auth)).ResultCase == GitCredentialReply.ResultOneofCase.Lease);
        leases = JsonDocument.Parse(await restarted.Admin.GetStringAsync($"/api/v1/leases?workspaceId={sidecar.WorkspaceId}")).RootElement;
        Assert.Equal(4, leases.GetProperty("items").GetArrayLength());

        (await b.Admin.DeleteAsync($"/api/v1/credentials/{credential}")).EnsureSuccessStatusCode();
        Assert.False((await afterRestart.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "git.example.com", Path = "team/z" }, sidecar.Auth)).ResultCase == GitCredentialReply.ResultOneofCase.Lease);
        var replay = await Assert.ThrowsAsync<RpcException>(async () => await afterRestart.RefreshSessionAsync(new RefreshSessionRequest(), old));
        Assert.Equal(StatusCode.PermissionDenied, replay.StatusCode);

        var audit = JsonDocument.Parse(await restarted.Admin.GetStringAsync("/api/v1/audit?limit=500")).RootElement;
        Assert.True(audit.GetProperty("items").GetArrayLength() >= 8);
        var verify = JsonDocument.Parse(await b.Admin.GetStringAsync("/api/v1/audit/verify")).RootElement;
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
    }

    [Fact]
    public async Task SessionRefresh_SameTokenThroughTwoReplicasAtOnce_OneWinner()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var _ = db;
        BrokerOptions Options(BrokerOptions o) => o with { DataDirectory = db.Directory, Database = db.ConnectionString };
        await using var a = await BrokerTestHost.StartAsync(Options);
        await using var b = await BrokerTestHost.StartAsync(Options);
        var user = await a.CreateUserAsync("dave");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(a, user)).OpenAsync();
        var clients = new[] { new SidecarBroker.SidecarBrokerClient(a.GrpcChannel), new SidecarBroker.SidecarBrokerClient(b.GrpcChannel) };

        var outcomes = new ConcurrentBag<bool>();
        await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            try
            {
                await clients[i % 2].RefreshSessionAsync(new RefreshSessionRequest(), sidecar.Auth);
                outcomes.Add(true);
            }
            catch (RpcException)
            {
                outcomes.Add(false);
            }
        }));

        Assert.Single(outcomes, won => won);
    }

    /// <summary>Keeps the replica's writer busy until <paramref name="release"/>, so the units queued meanwhile run as one batch.</summary>
    private static Task HoldWriter(ContractDatabase.Replica replica, ManualResetEventSlim release)
    {
        using var started = new ManualResetEventSlim();
        var blocker = replica.Writes.ExecuteAsync((c, t) => { started.Set(); release.Wait(TimeSpan.FromSeconds(30)); });
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)));
        return blocker;
    }

    private static void WriteUser(DbConnection connection, DbTransaction transaction, string id) =>
        Sql.Write(connection, transaction, "INSERT INTO users (id, name, email, created_at) VALUES (@id, 'n', NULL, @created)",
            ("@id", id), ("@created", DateTimeOffset.UtcNow.ToDb()));

    private static void InsertUser(DbConnection connection, DbTransaction transaction, string id) =>
        UserStore.Insert(connection, transaction, new UserRecord(id, "n", null, DateTimeOffset.UtcNow));
}

public sealed class SqliteStorageContractTests() : StorageContractTests(new SqliteBackend());

public sealed class PostgresStorageContractTests() : StorageContractTests(new PostgresBackend())
{
    [Fact]
    public async Task Migrate_FourReplicasStartingAtOnce_MigrateExactlyOnce()
    {
        await using var db = await ContractDatabase.CreateAsync(new PostgresBackend(), migrate: false);

        var versions = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            using var database = new Database(db.ConnectionString);
            return new Migrator(database).Migrate();
        })));

        Assert.All(versions, v => Assert.Equal(Migrator.LatestVersion, v));
        using var check = new Database(db.ConnectionString);
        using var connection = check.Open();
        Assert.Equal((long)Migrator.Names(check.Kind).Count, Convert.ToInt64(Sql.Scalar(connection, null, "SELECT COUNT(*) FROM schema_version")));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData(";Max Auto Prepare=0", false)]
    public async Task RepeatedStatements_ArePreparedOnTheServer_UnlessTheConnectionStringSaysOtherwise(string extra, bool prepared)
    {
        // A lease issue runs the same few statements every time: parsing and planning them again
        // each time cost the single writer most of its time. Behind a transaction pooler an
        // operator turns preparation off, and that choice stands.
        await using var db = await ContractDatabase.CreateAsync(new PostgresBackend());
        using var database = new Database(db.ConnectionString + extra);
        using var connection = database.Open();

        for (var i = 0; i < 3; i++)
        {
            Sql.Scalar(connection, null, "SELECT COUNT(*) FROM users WHERE id = @id", ("@id", $"usr_{i}"));
        }

        var count = Convert.ToInt64(Sql.Scalar(connection, null,
            "SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM users WHERE id%' AND statement NOT LIKE '%pg_prepared_statements%'"));
        Assert.Equal(prepared, count > 0);
    }

    [Fact]
    public void Migrations_EverySqliteMigration_HasAPostgresTwin()
    {
        Assert.Equal(Migrator.Names(DatabaseKind.Sqlite), Migrator.Names(DatabaseKind.Postgres));
    }
}
