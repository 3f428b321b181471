using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;
using Xares.Broker.Tests.Support;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Vault;

/// <summary>
/// The key maintenance lock, resuming an unfinished rotation and `keys prune`, on SQLite and
/// PostgreSQL. Each "replica" is what a separate `xares-broker keys …` process would hold.
/// </summary>
public abstract class KeyMaintenanceTests(StorageBackend backend)
{
    [Fact]
    public async Task Acquire_WhileHeld_RefusesNamingHolderUntilReleased()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var database = db.AddReplica().Database;

        var held = KeyMaintenanceLock.Acquire(database, "keys rotate", TimeProvider.System);
        var refused = Assert.Throws<KeyMaintenanceBusyException>(() => KeyMaintenanceLock.Acquire(database, "keys prune", TimeProvider.System));

        Assert.Contains($"keys rotate (pid {Environment.ProcessId} on {Environment.MachineName}", refused.Message);
        Assert.DoesNotContain("#", refused.Message); // the holder's random tag is not part of what operators read
        held.Dispose();
        KeyMaintenanceLock.Acquire(database, "keys prune", TimeProvider.System).Dispose();
    }

    [Fact]
    public async Task Acquire_HolderStoppedHeartbeat_TakenOverOnceStaleAndOldHolderStops()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var database = db.AddReplica().Database;
        var crashedClock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var laterClock = new FakeTimeProvider(DateTimeOffset.UtcNow + KeyMaintenanceLock.Lifetime - TimeSpan.FromSeconds(1));

        using var crashed = KeyMaintenanceLock.Acquire(database, "keys rotate", crashedClock);
        Assert.Throws<KeyMaintenanceBusyException>(() => KeyMaintenanceLock.Acquire(database, "keys rotate", laterClock));
        laterClock.Advance(TimeSpan.FromSeconds(2));
        using var takenOver = KeyMaintenanceLock.Acquire(database, "keys rotate", laterClock);

        crashedClock.Advance(TimeSpan.FromSeconds(5)); // its heartbeat finds the lock gone
        Assert.Throws<InvalidOperationException>(crashed.ThrowIfLost);
        takenOver.ThrowIfLost();
    }

    [Fact]
    public async Task KeyOperations_WhileAnotherRuns_EachRefuses()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        var rotation = new KeyRotation(replica.Database, replica.Keyring, replica.Audit) { Settle = TimeSpan.Zero };
        var pruner = new KeyringPruner(replica.Database, replica.Keyring, replica.Audit, TimeProvider.System);

        using (KeyMaintenanceLock.Acquire(replica.Database, "keys rotate", TimeProvider.System))
        {
            Assert.Throws<KeyMaintenanceBusyException>(() => rotation.Rotate(TextWriter.Null, "test"));
            Assert.Throws<KeyMaintenanceBusyException>(() => pruner.Prune("test"));
            Assert.Throws<KeyMaintenanceBusyException>(() => rotation.Rekey(MasterKey.FromBytes(new byte[MasterKey.Size], "other"), "test"));
            Assert.Contains("keys rotate", rotation.Status().LockHolder);
        }
        Assert.Single(rotation.Status().Versions); // nothing was added meanwhile
        Assert.Null(rotation.Status().LockHolder);
    }

    [Fact]
    public async Task Rotate_AfterCrashBeforeRewrap_ResumesThatVersionAndPruneWaitsForIt()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var _ = db;
        await using var host = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString, MasterKeyBase64 = Convert.ToBase64String(db.MasterKey) });
        var user = await host.CreateUserAsync();
        for (var i = 0; i < 3; i++)
        {
            await host.CreateGitCredentialAsync(user, $"https://git{i}.example.test", "alice", $"secret-resume-{i}-abcdef");
        }
        var cli = db.AddReplica();
        var rotation = new KeyRotation(cli.Database, cli.Keyring, cli.Audit) { Settle = TimeSpan.Zero };

        // A rotation that crashed right after committing its version: nothing re-wrapped yet.
        var (started, _) = cli.Keyring.BeginRotation((_, _, _) => { });
        Assert.Equal(started, rotation.Status().UnfinishedRotation);
        var refused = Assert.Throws<InvalidOperationException>(() => new KeyringPruner(cli.Database, cli.Keyring, cli.Audit, TimeProvider.System).Prune("test"));
        Assert.Contains($"rotation to key-encryption key version {started} is unfinished", refused.Message);

        var output = new StringWriter();
        var result = rotation.Rotate(output, "test");

        Assert.Equal((started, true, 3L, 0L), (result.Version, result.Resumed, result.Rewrapped, result.Unreadable));
        Assert.Contains("Resuming the unfinished rotation", output.ToString());
        var status = rotation.Status();
        Assert.Null(status.UnfinishedRotation);
        Assert.Equal([0L, 3L], status.Versions.Select(v => v.Usage.GetValueOrDefault("credentials")));
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, user)).OpenAsync();
        Assert.Equal("secret-resume-2-abcdef", (await sidecar.GetAsync("https", "git2.example.test")).Lease.Secret);
        Assert.True(cli.Verify().Ok);
    }

    [Fact]
    public async Task Prune_KeepsVersionsAuditRecordsNeed_RemovesThemOnceUnused()
    {
        var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var _ = db;
        await using var host = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString, MasterKeyBase64 = Convert.ToBase64String(db.MasterKey) });
        var user = await host.CreateUserAsync();
        await host.CreateGitCredentialAsync(user, "https://git.example.test", "alice", "secret-prune-abcdef");
        var cli = db.AddReplica();
        var rotation = new KeyRotation(cli.Database, cli.Keyring, cli.Audit) { Settle = TimeSpan.Zero };
        var pruner = new KeyringPruner(cli.Database, cli.Keyring, cli.Audit, TimeProvider.System);
        rotation.Rotate(TextWriter.Null, "test");
        // The real final pass: afterwards the broker has seen version 3 and writes nothing under an older one.
        new KeyRotation(cli.Database, cli.Keyring, cli.Audit).Rotate(TextWriter.Null, "test");

        // No credential uses versions 1 and 2 any more, but audit records made under them do.
        Assert.All(rotation.Status().Versions, v => Assert.False(v.Prunable));
        Assert.Empty(pruner.Prune("test").Pruned);
        Assert.True(cli.Verify().Ok);

        // Once those records are gone (as audit retention removes them), both versions go; 3 is current.
        using (var connection = cli.Database.Open())
        {
            Sql.Execute(connection, null, "DELETE FROM audit_log WHERE key_version < 3");
        }
        Assert.Equal([true, true, false], rotation.Status().Versions.Select(v => v.Prunable));
        var result = pruner.Prune("test");

        Assert.Equal([1, 2], result.Pruned);
        Assert.Equal([3], result.Kept);
        Assert.Equal([3], cli.Keyring.Versions);
        using (var connection = cli.Database.Open())
        {
            Assert.Equal([3L], Sql.Query(connection, null, "SELECT version FROM keyring", r => Convert.ToInt64(r.GetValue(0))));
            Assert.Equal("key-encryption key versions 1, 2 pruned; kept 3",
                Sql.Scalar(connection, null, "SELECT detail FROM audit_log WHERE action = @a", ("@a", KeyringPruner.AuditAction)));
            // A broker still taking a pruned version for current could not store a secret under it.
            Assert.ThrowsAny<System.Data.Common.DbException>(() => Sql.Execute(connection, null, "UPDATE credentials SET kek_version = 1"));
        }
        // A process starting now loads only version 3 and still opens every secret.
        var restarted = db.AddReplica();
        Assert.Equal([3], restarted.Keyring.Versions);
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, user)).OpenAsync();
        Assert.Equal("secret-prune-abcdef", (await sidecar.GetAsync("https", "git.example.test")).Lease.Secret);
    }

    [Fact]
    public async Task Rekey_RotationFinishedAfterRekeyLoadedKeyring_ReWrapsEveryVersion()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        // `keys rekey` has opened its keyring (version 1) but not yet taken the lock...
        var rekeying = db.AddReplica();
        // ...when a `keys rotate` in another process runs to completion and adds version 2.
        var rotating = db.AddReplica();
        new KeyRotation(rotating.Database, rotating.Keyring, rotating.Audit) { Settle = TimeSpan.Zero }.Rotate(TextWriter.Null, "test");
        var newMaster = MasterKey.FromBytes(System.Security.Cryptography.RandomNumberGenerator.GetBytes(MasterKey.Size), "new");

        new KeyRotation(rekeying.Database, rekeying.Keyring, rekeying.Audit).Rekey(newMaster, "test");

        // The next start with the new master key opens every version, the one added meanwhile included.
        var restarted = Keyring.LoadOrCreate(rekeying.Database, newMaster, TimeProvider.System);
        Assert.Equal([1, 2], restarted.Versions.Order());
    }
}

public sealed class SqliteKeyMaintenanceTests() : KeyMaintenanceTests(new SqliteBackend());

public sealed class PostgresKeyMaintenanceTests() : KeyMaintenanceTests(new PostgresBackend());
