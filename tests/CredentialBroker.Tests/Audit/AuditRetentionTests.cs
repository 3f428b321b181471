using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;
using static Xares.Broker.Tests.Audit.AuditCheckpointTests;

namespace Xares.Broker.Tests.Audit;

/// <summary>Retention prunes old records and leaves a MACed base and an audit.pruned record; the rest still verifies, and tampering is still caught.</summary>
public sealed class AuditRetentionTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Prune_OldRecords_AreGoneAndTheRestVerifiesFromTheBase()
    {
        await using var db = TestDatabase.Create();
        var (chain, pruner) = Parts(db);
        await AppendAsync(db, 5, "old", chain);
        _time.Advance(TimeSpan.FromDays(10));
        await AppendAsync(db, 3, "recent", chain);

        var result = await PruneAsync(db, pruner, TimeSpan.FromDays(7));

        Assert.Equal(new AuditPruneResult(1, 5, 6, 5, 9), result);
        Assert.Equal(6L, Scalar(db, "SELECT MIN(seq) FROM audit_log"));
        var pruned = Scalar(db, "SELECT detail FROM audit_log WHERE action = 'audit.pruned'") as string;
        Assert.Contains("the chain continues at record 6 from MAC", pruned, StringComparison.Ordinal);
        var verified = Verify(db, chain);
        Assert.True(verified.Ok, verified.Problem);
        Assert.Equal(6, verified.FirstSequence);
        Assert.Equal(4, verified.VerifiedRecords);
    }

    [Fact]
    public async Task Prune_ThenEditInTheRetainedPart_IsCaught()
    {
        await using var db = TestDatabase.Create();
        var (chain, pruner) = Parts(db);
        await AppendAsync(db, 4, "old", chain);
        _time.Advance(TimeSpan.FromDays(10));
        await AppendAsync(db, 4, "recent", chain);
        await PruneAsync(db, pruner, TimeSpan.FromDays(7));

        db.ExecuteRaw("UPDATE audit_log SET detail = 'edited' WHERE seq = 7");

        var result = Verify(db, chain);
        Assert.False(result.Ok);
        Assert.Equal(7, result.FirstBrokenSequence);
    }

    [Fact]
    public async Task Prune_ThenFirstRetainedDeleted_IsCaught()
    {
        await using var db = TestDatabase.Create();
        var (chain, pruner) = Parts(db);
        await AppendAsync(db, 3, "old", chain);
        _time.Advance(TimeSpan.FromDays(10));
        await AppendAsync(db, 3, "recent", chain);
        await PruneAsync(db, pruner, TimeSpan.FromDays(7));

        db.ExecuteRaw("DELETE FROM audit_log WHERE seq = 4");

        Assert.Equal(4, Verify(db, chain).FirstBrokenSequence);
    }

    [Fact]
    public async Task Prune_ThenBaseMovedForwardWithoutTheKey_IsCaught()
    {
        await using var db = TestDatabase.Create();
        var (chain, pruner) = Parts(db);
        await AppendAsync(db, 3, "old", chain);
        _time.Advance(TimeSpan.FromDays(10));
        await AppendAsync(db, 4, "recent", chain);
        await PruneAsync(db, pruner, TimeSpan.FromDays(7));

        // Hide records 4 and 5 by pointing the base past them.
        db.ExecuteRaw("DELETE FROM audit_log WHERE seq < 6");
        db.ExecuteRaw("UPDATE audit_base SET seq = 6, prev_mac = (SELECT mac FROM audit_log WHERE seq = 6)");

        var result = Verify(db, chain);
        Assert.False(result.Ok);
        Assert.Contains("base", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_WithoutABase_RecordsCutFromTheStartAreCaught()
    {
        await using var db = TestDatabase.Create();
        await AppendAsync(db, 4);

        db.ExecuteRaw("DELETE FROM audit_log WHERE seq < 3");

        Assert.Equal(1, Verify(db).FirstBrokenSequence);
    }

    [Fact]
    public async Task Prune_EverythingOld_KeepsTheNewestRecordSoTheChainContinues()
    {
        await using var db = TestDatabase.Create();
        var (chain, pruner) = Parts(db);
        await AppendAsync(db, 4, "old", chain);
        _time.Advance(TimeSpan.FromDays(30));

        var result = await PruneAsync(db, pruner, TimeSpan.FromDays(7));
        await AppendAsync(db, 1, "after", chain);

        Assert.Equal(4, result!.FirstRetained);
        Assert.True(Verify(db, chain).Ok);
    }

    [Fact]
    public async Task Prune_NothingOldEnough_DoesNothing()
    {
        await using var db = TestDatabase.Create();
        var (chain, pruner) = Parts(db);
        await AppendAsync(db, 3, "recent", chain);

        Assert.Null(await PruneAsync(db, pruner, TimeSpan.FromDays(7)));
        Assert.Equal(3L, Scalar(db, "SELECT COUNT(*) FROM audit_log"));
    }

    [Fact]
    public async Task Prune_Twice_TheSecondBaseChainsOnAndVerifies()
    {
        await using var db = TestDatabase.Create();
        var (chain, pruner) = Parts(db);
        await AppendAsync(db, 3, "oldest", chain);
        _time.Advance(TimeSpan.FromDays(5));
        await AppendAsync(db, 3, "older", chain);
        _time.Advance(TimeSpan.FromDays(5));
        await AppendAsync(db, 3, "recent", chain);

        await PruneAsync(db, pruner, TimeSpan.FromDays(7));
        _time.Advance(TimeSpan.FromDays(4));
        var second = await PruneAsync(db, pruner, TimeSpan.FromDays(7));

        Assert.Equal(7, second!.FirstRetained);
        var result = Verify(db, chain);
        Assert.True(result.Ok, result.Problem);
        Assert.Equal(7, result.FirstSequence);
    }

    [Fact]
    public async Task Verify_CheckpointInThePrunedRange_IsNotATruncation_LaterOnesAreStillCompared()
    {
        await using var db = TestDatabase.Create();
        var (chain, pruner) = Parts(db);
        var writer = Writer(db, _time);
        await AppendAsync(db, 4, "old", chain);
        await writer.WriteAsync();
        _time.Advance(TimeSpan.FromDays(10));
        await AppendAsync(db, 3, "recent", chain);
        await writer.WriteAsync();
        await PruneAsync(db, pruner, TimeSpan.FromDays(7));
        await writer.WriteAsync();

        var intact = Verify(db, chain);
        Assert.True(intact.Ok, intact.Problem);
        Assert.Equal(2, intact.CheckpointsChecked);

        db.ExecuteRaw("DELETE FROM audit_log WHERE seq > 7");
        db.ExecuteRaw("UPDATE audit_head SET seq = 7");
        Assert.False(Verify(db, chain).Ok);
    }

    [Fact]
    public async Task Verify_AfterRetentionAndKeysPrune_OldCheckpointsUnderThePrunedKeyAreIgnored_KeptOnesStillCount()
    {
        await using var db = TestDatabase.Create();
        var (chain, pruner) = Parts(db);
        var writer = Writer(db, _time);
        await AppendAsync(db, 4, "old", chain);
        await writer.WriteAsync();
        var (rotated, _) = db.Keyring.BeginRotation((_, _, _) => { });
        db.Keyring.CompleteRotation(rotated);
        _time.Advance(TimeSpan.FromDays(10));
        await AppendAsync(db, 3, "recent", chain);
        await writer.WriteAsync();
        await PruneAsync(db, pruner, TimeSpan.FromDays(7));

        var keys = new Xares.Broker.Vault.KeyringPruner(db.Database, db.Keyring, chain, _time).Prune("test");

        Assert.Contains(1, keys.Pruned);
        var verified = Verify(db, chain);
        Assert.True(verified.Ok, verified.Problem);
        // A line under the pruned key that names a record still kept can't be checked: it counts as forged.
        var line = File.ReadLines(CheckpointPath(db)).First().Replace("\"sequence\":4,", "\"sequence\":9,", StringComparison.Ordinal);
        File.AppendAllLines(CheckpointPath(db), [line]);
        Assert.Contains("do not verify", Verify(db, chain).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_RemovesFlagsOlderThanTheCutoff()
    {
        await using var db = TestDatabase.Create();
        var (chain, pruner) = Parts(db);
        await AppendAsync(db, 2, "old", chain);
        db.ExecuteRaw("INSERT INTO audit_flags (seq, id, kind, raised_at, detail) VALUES (1, 'flag_old', 'new_address', $at, 'x')", ("$at", _time.GetUtcNow().ToDb()));
        _time.Advance(TimeSpan.FromDays(10));
        await AppendAsync(db, 2, "recent", chain);

        await PruneAsync(db, pruner, TimeSpan.FromDays(7));

        Assert.Equal(0L, Scalar(db, "SELECT COUNT(*) FROM audit_flags"));
    }

    private (AuditChain Chain, AuditPruner Pruner) Parts(TestDatabase db)
    {
        var chain = new AuditChain(db.Keyring, _time);
        return (chain, new AuditPruner(chain, db.Keyring));
    }

    private Task<AuditPruneResult?> PruneAsync(TestDatabase db, AuditPruner pruner, TimeSpan retention)
    {
        var cutoff = _time.GetUtcNow() - retention;
        return db.Writes.ExecuteAsync((c, t) => pruner.Prune(c, t, cutoff));
    }

    private static object? Scalar(TestDatabase db, string sql)
    {
        using var connection = db.OpenRaw();
        return Sql.Scalar(connection, null, sql);
    }
}
