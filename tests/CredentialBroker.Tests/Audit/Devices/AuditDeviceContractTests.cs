using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xares.Broker.Audit;
using Xares.Broker.Audit.Devices;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;

namespace Xares.Broker.Tests.Audit.Devices;

/// <summary>
/// Audit devices on the write queue, on SQLite and PostgreSQL: a required device holds exactly the
/// committed records, in order, with their MACs; when it cannot take them nothing commits; an
/// optional device catches up after the commit.
/// </summary>
public abstract class AuditDeviceContractTests(StorageBackend backend)
{
    [Fact]
    public async Task Required_BatchWithAFailingUnit_FileHoldsExactlyTheCommittedRecords()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var file = Path.Combine(db.Directory, "audit.jsonl");
        await using var rig = Rig.Create(db, "file:" + file, required: true);
        using var release = new ManualResetEventSlim();
        var blocker = rig.Writes.ExecuteAsync((c, t) => release.Wait(TimeSpan.FromSeconds(30)));

        var units = Enumerable.Range(0, 5).Select(i => rig.Writes.ExecuteAsync((c, t) =>
        {
            rig.Audit.Append(c, t, new AuditEntry($"test.unit{i}", AuditOutcomes.Success));
            if (i == 2)
            {
                throw new InvalidOperationException("this unit fails after auditing");
            }
        })).ToList();
        release.Set();
        await blocker;
        await Assert.ThrowsAsync<InvalidOperationException>(() => units[2]);
        await Task.WhenAll(units.Where((_, i) => i != 2));

        var lines = File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var stored = rig.StoredRecords();
        Assert.Equal(stored.Select(r => r.Sequence), lines.Select(l => l.GetProperty("sequence").GetInt64()));
        Assert.Equal(stored.Select(r => Convert.ToBase64String(r.Mac)), lines.Select(l => l.GetProperty("mac").GetString()));
        Assert.Equal(["test.unit0", "test.unit1", "test.unit3", "test.unit4"], lines.Select(l => l.GetProperty("action").GetString()));
        Assert.All(lines, l => Assert.True(l.TryGetProperty("keyVersion", out _)));
    }

    [Fact]
    public async Task Required_DeviceDown_WriteFailsAndNothingCommits_ThenRecovers()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var directory = Path.Combine(db.Directory, "not-yet");
        await using var rig = Rig.Create(db, "file:" + Path.Combine(directory, "audit.jsonl"), required: true);

        await Assert.ThrowsAsync<AuditDeviceUnavailableException>(() => rig.Writes.ExecuteAsync((c, t) =>
        {
            rig.Audit.Append(c, t, new AuditEntry("test.refused", AuditOutcomes.Success));
            Sql.Write(c, t, "INSERT INTO users (id, name, email, created_at) VALUES ('usr_refused', 'n', NULL, 0)");
        }));
        Assert.Empty(rig.StoredRecords());
        Assert.Equal(0, rig.Count("SELECT COUNT(*) FROM users WHERE id = 'usr_refused'"));

        Directory.CreateDirectory(directory);
        rig.Devices.Reopen();
        await rig.Writes.ExecuteAsync((c, t) => rig.Audit.Append(c, t, new AuditEntry("test.taken", AuditOutcomes.Success)));

        var record = Assert.Single(rig.StoredRecords());
        Assert.Equal(1, record.Sequence);
        Assert.Contains("\"test.taken\"", Assert.Single(File.ReadAllLines(Path.Combine(directory, "audit.jsonl"))), StringComparison.Ordinal);
        Assert.True(rig.Verify().Ok);
    }

    [Fact]
    public async Task Optional_DeviceDown_WritesCommit_ThenTheDeviceCatchesUpInOrder()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var directory = Path.Combine(db.Directory, "not-yet");
        await using var rig = Rig.Create(db, "file:" + Path.Combine(directory, "audit.jsonl"), required: false);

        for (var i = 0; i < 3; i++)
        {
            await rig.Writes.ExecuteAsync((c, t) => rig.Audit.Append(c, t, new AuditEntry("test.optional", AuditOutcomes.Success)));
        }
        Assert.Equal(3, rig.StoredRecords().Count);

        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "audit.jsonl");
        Assert.True(await Xares.DevKit.Poll.UntilAsync(() => Task.FromResult(File.Exists(path) && File.ReadAllLines(path).Length == 3), TimeSpan.FromSeconds(30)));
        Assert.Equal([1L, 2L, 3L], File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("sequence").GetInt64()));
    }

    private sealed class Rig : IAsyncDisposable
    {
        private Rig(ContractDatabase.Replica replica, AuditDevices devices)
        {
            Replica = replica;
            Devices = devices;
            Audit = new AuditChain(replica.Keyring, TimeProvider.System, devices);
            Writes = new WriteQueue(replica.Database, () => { }, devices.WriteRequired);
        }

        private ContractDatabase.Replica Replica { get; }
        public AuditDevices Devices { get; }
        public AuditChain Audit { get; }
        public WriteQueue Writes { get; }

        public static Rig Create(ContractDatabase db, string device, bool required)
        {
            var settings = new AuditSettings { Devices = [AuditDeviceAddress.Parse(device)], DevicesRequired = required };
            return new Rig(db.AddReplica(), new AuditDevices(settings, Options.Create(new JsonOptions()), TimeProvider.System, NullLogger<AuditDevices>.Instance));
        }

        public List<(long Sequence, byte[] Mac)> StoredRecords()
        {
            using var connection = Replica.Database.Open();
            return Sql.Query(connection, null, "SELECT seq, mac FROM audit_log ORDER BY seq", r => (r.GetInt64(0), (byte[])r["mac"]));
        }

        public long Count(string sql)
        {
            using var connection = Replica.Database.Open();
            return Convert.ToInt64(Sql.Scalar(connection, null, sql));
        }

        public AuditVerification Verify() => Replica.Verify();

        public async ValueTask DisposeAsync()
        {
            await Writes.DisposeAsync();
            await Devices.DisposeAsync();
        }
    }
}

public sealed class SqliteAuditDeviceContractTests() : AuditDeviceContractTests(new SqliteBackend());

public sealed class PostgresAuditDeviceContractTests() : AuditDeviceContractTests(new PostgresBackend());
