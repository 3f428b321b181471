using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;

namespace Xares.Broker.Tests.Audit;

/// <summary>Retention, flag scanning and checkpoints with several replicas on one database, on SQLite and PostgreSQL.</summary>
public abstract class AuditOperationsContractTests(StorageBackend backend)
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Prune_TwoReplicasAtOnce_OnePrunesAndTheChainVerifies()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replicas = new[] { db.AddReplica(), db.AddReplica() };
        var chains = replicas.Select(r => new AuditChain(r.Keyring, _time)).ToArray();
        await AppendAsync(replicas, chains, 40, "old");
        _time.Advance(TimeSpan.FromDays(10));
        await AppendAsync(replicas, chains, 10, "recent");
        var cutoff = _time.GetUtcNow() - TimeSpan.FromDays(7);

        var results = await Task.WhenAll(replicas.Select((r, i) =>
            r.Writes.ExecuteAsync((c, t) => new AuditPruner(chains[i], r.Keyring).Prune(c, t, cutoff))));

        var pruned = Assert.Single(results, r => r is not null)!;
        Assert.Equal(41, pruned.FirstRetained);
        using var connection = replicas[1].Database.Open();
        var verification = chains[1].Verify(connection);
        Assert.True(verification.Ok, verification.Problem);
        Assert.Equal(41, verification.FirstSequence);
        Assert.Equal(11, verification.VerifiedRecords);
    }

    [Fact]
    public async Task FlagScan_TwoReplicasAtOnce_ExamineEachRecordOnce()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replicas = new[] { db.AddReplica(), db.AddReplica() };
        var chains = replicas.Select(r => new AuditChain(r.Keyring, _time)).ToArray();
        var options = new BrokerOptions { Audit = new AuditSettings { Flags = new AuditFlagThresholds { AuthFailures = 3 } } };
        await Task.WhenAll(Enumerable.Range(0, 3 * AuditFlagDetector.BatchSize / 2).Select(i => replicas[i % 2].Writes.ExecuteAsync((c, t) =>
            chains[i % 2].Append(c, t, new AuditEntry(AuditActions.AuthFailure, AuditOutcomes.Denied) { RemoteAddress = $"192.0.2.{i % 3}" }))));

        var scans = await Task.WhenAll(replicas.Select((r, i) => Task.Run(async () =>
        {
            var detector = new AuditFlagDetector(chains[i], options, _time);
            var raised = new List<AuditFlag>();
            AuditScan scan;
            do
            {
                scan = await r.Writes.ExecuteAsync(detector.Scan);
                raised.AddRange(scan.Raised);
            }
            while (scan.More);
            return raised;
        })));

        var flags = scans.SelectMany(s => s).ToList();
        Assert.Equal(3, flags.Count);
        Assert.Equal(["192.0.2.0", "192.0.2.1", "192.0.2.2"], flags.Select(f => f.RemoteAddress).Order());
        Assert.True(replicas[0].Verify().Ok);
    }

    [Fact]
    public async Task Checkpoints_EachReplicaItsOwnFile_EachFileVerifiesTheOneChain()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replicas = new[] { db.AddReplica(), db.AddReplica() };
        var writers = replicas.Select((r, i) => new AuditCheckpointWriter(r.Database, r.Keyring,
            new BrokerOptions { DataDirectory = Path.Combine(db.Directory, $"replica-{i}") }, _time, NullLogger<AuditCheckpointWriter>.Instance)).ToArray();
        var chains = replicas.Select(r => r.Audit).ToArray();

        await AppendAsync(replicas, chains, 5, "first");
        await writers[0].WriteAsync();
        await AppendAsync(replicas, chains, 5, "second");
        await writers[1].WriteAsync();

        for (var i = 0; i < 2; i++)
        {
            var file = Path.Combine(db.Directory, $"replica-{i}", AuditCheckpointFile.DefaultName);
            using var connection = replicas[1 - i].Database.Open();
            var result = chains[1 - i].Verify(connection, AuditCheckpointFile.Read(file, replicas[1 - i].Keyring));
            Assert.True(result.Ok, result.Problem);
            Assert.Equal(1, result.CheckpointsChecked);
        }
    }

    private static async Task AppendAsync(ContractDatabase.Replica[] replicas, AuditChain[] chains, int count, string detail) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => replicas[i % 2].Writes.ExecuteAsync((c, t) =>
            chains[i % 2].Append(c, t, new AuditEntry(AuditActions.UserCreate, AuditOutcomes.Success) { Detail = $"{detail} {i}" }))));
}

public sealed class SqliteAuditOperationsContractTests() : AuditOperationsContractTests(new SqliteBackend());

public sealed class PostgresAuditOperationsContractTests() : AuditOperationsContractTests(new PostgresBackend());
