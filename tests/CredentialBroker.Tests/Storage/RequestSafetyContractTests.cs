using System.Net;
using System.Text;
using Xares.Broker.Api.Idempotency;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Storage;

/// <summary>
/// The idempotency store and row versions on SQLite and PostgreSQL: replicas racing one key
/// (store instances and whole brokers on one database), replay across replicas, mismatch, release,
/// expiry and pruning; row_version triggers and the If-Match guard of the write queue.
/// </summary>
public abstract class RequestSafetyContractTests(StorageBackend backend)
{
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);
    private static readonly TimeSpan Lock = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Begin_TwoReplicasRaceOneKey_OneReservesOthersWaitThenAllReplay()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var a = db.AddReplica();
        var b = db.AddReplica();
        var hash = Hash("POST /api/v1/workspaces {}");
        var now = DateTimeOffset.UtcNow;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? a : b).Writes.ExecuteAsync((c, t) =>
            IdempotencyStore.Begin(c, t, "key_caller", "race", hash, now, Day, Lock).Outcome)));
        Assert.Single(outcomes, o => o == IdempotencyOutcome.Reserved);
        Assert.All(outcomes.Where(o => o != IdempotencyOutcome.Reserved), o => Assert.Equal(IdempotencyOutcome.InUse, o));

        // Sealed by one replica, opened by the other: they share the master key and the keyring.
        var context = new SecretContext("idempotency", "key_caller", 1, "idempotent-answer", "", Convert.ToHexStringLower(hash), "race");
        var answer = new StoredAnswer(201, "/api/v1/workspaces/ws_1", "application/json", now.AddMinutes(10), a.Keyring.Seal("{\"id\":\"ws_1\"}"u8, context));
        await a.Writes.ExecuteAsync((c, t) => IdempotencyStore.Complete(c, t, "key_caller", "race", answer));
        var (outcome, replay) = await b.Writes.ExecuteAsync((c, t) => IdempotencyStore.Begin(c, t, "key_caller", "race", hash, now, Day, Lock));
        Assert.Equal(IdempotencyOutcome.Replay, outcome);
        Assert.Equal("/api/v1/workspaces/ws_1", replay!.Location);
        Assert.Equal("{\"id\":\"ws_1\"}", Encoding.UTF8.GetString(b.Keyring.Open(replay.Body!, context)));

        // Keys are per caller; another body under the key is a mismatch; past the replay window it is gone.
        Assert.Equal(IdempotencyOutcome.Reserved, await BeginAsync(b, "key_other", "race", hash, now));
        Assert.Equal(IdempotencyOutcome.Mismatch, await BeginAsync(b, "key_caller", "race", Hash("other body"), now));
        Assert.Equal(IdempotencyOutcome.ReplayExpired, await BeginAsync(b, "key_caller", "race", hash, now.AddMinutes(11)));
    }

    [Fact]
    public async Task ReleaseExpiryAndStaleLocks_FreeTheKey()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        var hash = Hash("body");
        var now = DateTimeOffset.UtcNow;

        Assert.Equal(IdempotencyOutcome.Reserved, await BeginAsync(replica, "key_1", "k", hash, now));
        await replica.Writes.ExecuteAsync((c, t) => IdempotencyStore.Release(c, t, "key_1", "k"));
        Assert.Equal(IdempotencyOutcome.Reserved, await BeginAsync(replica, "key_1", "k", hash, now));
        // A broker that died mid-request: after its lock a retry takes over.
        Assert.Equal(IdempotencyOutcome.InUse, await BeginAsync(replica, "key_1", "k", hash, now + Lock - TimeSpan.FromSeconds(1)));
        Assert.Equal(IdempotencyOutcome.Reserved, await BeginAsync(replica, "key_1", "k", hash, now + Lock + TimeSpan.FromSeconds(1)));

        await replica.Writes.ExecuteAsync((c, t) => IdempotencyStore.Complete(c, t, "key_1", "k",
            new StoredAnswer(201, null, "application/json", null, replica.Keyring.Seal("{}"u8, new SecretContext("idempotency", "key_1", 1, "idempotent-answer", "", "", "k")))));
        Assert.Equal(IdempotencyOutcome.Replay, await BeginAsync(replica, "key_1", "k", hash, now + TimeSpan.FromHours(23)));
        // After 24 h the key names a new request: even another body is welcome.
        Assert.Equal(IdempotencyOutcome.Reserved, await BeginAsync(replica, "key_1", "k", Hash("new"), now + Day + TimeSpan.FromMinutes(1)));

        Assert.Equal(0, await replica.Writes.ExecuteAsync((c, t) => IdempotencyStore.DeleteExpiredBefore(c, t, now, 100)));
        Assert.Equal(1, await replica.Writes.ExecuteAsync((c, t) => IdempotencyStore.DeleteExpiredBefore(c, t, now + Day * 3, 100)));
    }

    [Fact]
    public async Task EraseEndedReplays_SecretAnswerPastItsWindow_SealedBodyGoneRowKept()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        var now = DateTimeOffset.UtcNow;
        await BeginAsync(replica, "key_1", "secret", Hash("b"), now);
        await replica.Writes.ExecuteAsync((c, t) => IdempotencyStore.Complete(c, t, "key_1", "secret",
            new StoredAnswer(201, null, null, now.AddMinutes(10), replica.Keyring.Seal("xar_secret"u8, new SecretContext("idempotency", "key_1", 1, "idempotent-answer", "", "", "secret")))));

        Assert.Equal(0, await replica.Writes.ExecuteAsync((c, t) => IdempotencyStore.EraseEndedReplays(c, t, now)));
        Assert.Equal(1, await replica.Writes.ExecuteAsync((c, t) => IdempotencyStore.EraseEndedReplays(c, t, now.AddMinutes(11))));
        Assert.Equal(IdempotencyOutcome.ReplayExpired, await BeginAsync(replica, "key_1", "secret", Hash("b"), now));
        Assert.Null(await replica.Database.ReadAsync(c => Sql.Scalar(c, null, "SELECT ciphertext FROM idempotency_keys")));
    }

    [Fact]
    public async Task RowVersion_EditedColumnsRaiseIt_WorkingStateDoesNot()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        await replica.Writes.ExecuteAsync((c, t) =>
        {
            Sql.Execute(c, t, "INSERT INTO users (id, name, created_at) VALUES ('usr_1', 'ann', 0)");
            Sql.Execute(c, t, "INSERT INTO workspaces (id, user_id, name, created_at) VALUES ('ws_1', 'usr_1', 'w', 0)");
        });
        Assert.Equal(1L, await VersionAsync(replica, VersionedTable.Workspaces, "ws_1"));
        await replica.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t, "UPDATE workspaces SET name = 'renamed' WHERE id = 'ws_1'"));
        Assert.Equal(2L, await VersionAsync(replica, VersionedTable.Workspaces, "ws_1"));
        await replica.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t, "UPDATE workspaces SET container_state = 'running' WHERE id = 'ws_1'"));
        Assert.Equal(2L, await VersionAsync(replica, VersionedTable.Workspaces, "ws_1"));
        Assert.Null(await VersionAsync(replica, VersionedTable.Workspaces, "ws_missing"));
    }

    [Fact]
    public async Task WritePrecondition_FailingCheck_UnitRolledBack_PassingCheck_VersionAfterKnown()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        await replica.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t, "INSERT INTO users (id, name, created_at) VALUES ('usr_1', 'ann', 0)"));

        var refused = new WritePrecondition(VersionedTable.Users, "usr_1", version => throw new Broker.Api.PreconditionFailedException());
        WritePrecondition.Set(refused);
        await Assert.ThrowsAsync<Broker.Api.PreconditionFailedException>(() =>
            replica.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t, "UPDATE users SET name = 'mallory' WHERE id = 'usr_1'")));
        WritePrecondition.Set(null);
        Assert.Equal("ann", await replica.Database.ReadAsync(c => Sql.Scalar(c, null, "SELECT name FROM users WHERE id = 'usr_1'")));

        long? seen = null;
        var accepted = new WritePrecondition(VersionedTable.Users, "usr_1", version => seen = version);
        WritePrecondition.Set(accepted);
        await replica.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t, "UPDATE users SET name = 'bea' WHERE id = 'usr_1'"));
        // Only the request's first unit is guarded.
        await replica.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t, "UPDATE users SET email = 'b@example.test' WHERE id = 'usr_1'"));
        WritePrecondition.Set(null);
        Assert.Equal(1L, seen);
        Assert.Equal(2L, accepted.VersionAfter);
        Assert.True(accepted.Applied);
    }

    [Fact]
    public async Task TwoBrokers_SamePostRacedWithOneKey_OneUserOneAuditRecord()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var database = db;
        BrokerOptions Options(BrokerOptions o) => o with { DataDirectory = db.Directory, Database = db.ConnectionString };
        await using var a = await BrokerTestHost.StartAsync(Options);
        await using var b = await BrokerTestHost.StartAsync(Options);
        // The same admin key works on both: one database.
        using var onB = b.CreateClient(a.AdminKey);

        var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Api.Idempotency.IdempotentRequestsTests.PostAsync(
            i % 2 == 0 ? a.Admin : onB, "/api/v1/users", """{"name":"raced"}""", "race-key")));

        Assert.All(replies, r => Assert.True(r.Status is HttpStatusCode.Created or HttpStatusCode.Conflict, $"{r.Status} {r.Body}"));
        Assert.Single(replies, r => r.Status == HttpStatusCode.Created && r.Replayed is null);
        Assert.Single(replies.Where(r => r.Status == HttpStatusCode.Created).Select(r => r.Body).Distinct());
        var database2 = a.Get<Database>();
        Assert.Equal(1L, Convert.ToInt64(await database2.ReadAsync(c => Sql.Scalar(c, null, "SELECT COUNT(*) FROM users WHERE name = 'raced'"))));
        Assert.Equal(1L, Convert.ToInt64(await database2.ReadAsync(c => Sql.Scalar(c, null,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'user.create' AND user_id IN (SELECT id FROM users WHERE name = 'raced')"))));
    }

    private static Task<IdempotencyOutcome> BeginAsync(ContractDatabase.Replica replica, string caller, string key, byte[] hash, DateTimeOffset now) =>
        replica.Writes.ExecuteAsync((c, t) => IdempotencyStore.Begin(c, t, caller, key, hash, now, Day, Lock).Outcome);

    private static Task<long?> VersionAsync(ContractDatabase.Replica replica, VersionedTable table, string id) =>
        replica.Database.ReadAsync(c => RowVersions.Find(c, null, table, id));

    private static byte[] Hash(string text) => System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text));
}

public sealed class SqliteRequestSafetyContractTests() : RequestSafetyContractTests(new SqliteBackend());

public sealed class PostgresRequestSafetyContractTests() : RequestSafetyContractTests(new PostgresBackend());
