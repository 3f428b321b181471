using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;

namespace Xares.Broker.Tests.Audit;

/// <summary>Checkpoints outside the database catch what the chain alone cannot: a cut tail with an old head, and a restored older backup.</summary>
public sealed class AuditCheckpointTests
{
    [Fact]
    public async Task WriteAsync_AppendsAMacedOwnerOnlyLine_OnlyWhenTheChainMoved()
    {
        await using var db = TestDatabase.Create();
        await AppendAsync(db, 3);
        var writer = Writer(db);

        var first = await writer.WriteAsync();
        var unchanged = await writer.WriteAsync();
        await AppendAsync(db, 1);
        var second = await writer.WriteAsync();

        Assert.Equal(3, first!.Sequence);
        Assert.Null(unchanged);
        Assert.Equal(4, second!.Sequence);
        var path = CheckpointPath(db);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var lines = File.ReadAllLines(path);
        Assert.Equal(2, lines.Length);
        var line = JsonNode.Parse(lines[0])!.AsObject();
        Assert.Equal(["sequence", "mac", "at", "keyVersion", "checkpointMac"], line.Select(p => p.Key));
        Assert.DoesNotContain(Convert.ToBase64String(db.MasterKeyBytes), File.ReadAllText(path), StringComparison.Ordinal);
        var verified = Verify(db);
        Assert.True(verified.Ok, verified.Problem);
        Assert.Equal(2, verified.CheckpointsChecked);
    }

    [Fact]
    public async Task Verify_TailDeletedAndOldHeadPutBack_IsCaughtOnlyWithCheckpoints()
    {
        await using var db = TestDatabase.Create();
        await AppendAsync(db, 4);
        var oldHead = ReadHead(db);
        await AppendAsync(db, 3);
        await Writer(db).WriteAsync();

        // Someone with database access cuts records 5–7 and puts back the head row as it was at 4.
        db.ExecuteRaw("DELETE FROM audit_log WHERE seq > 4");
        db.ExecuteRaw("UPDATE audit_head SET seq = $seq, mac = $mac, key_version = $kv, anchor = $anchor",
            ("$seq", oldHead.Seq), ("$mac", oldHead.Mac), ("$kv", oldHead.KeyVersion), ("$anchor", oldHead.Anchor));

        Assert.True(VerifyWithout(db).Ok);
        var result = Verify(db);
        Assert.False(result.Ok);
        Assert.Equal(5, result.FirstBrokenSequence);
        Assert.Contains("names record 7", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_DatabaseReplacedByAnOlderBackup_IsCaught()
    {
        await using var db = TestDatabase.Create();
        await AppendAsync(db, 4);
        var backup = Path.Combine(db.Directory, "old-backup.db");
        DatabaseBackup.ToFile(db.Database, backup);
        await AppendAsync(db, 4);
        await Writer(db).WriteAsync();

        RestoreFrom(db, backup);

        Assert.True(VerifyWithout(db).Ok);
        var result = Verify(db);
        Assert.False(result.Ok);
        Assert.Equal(5, result.FirstBrokenSequence);
        Assert.Contains("older backup", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_OlderBackupRestoredAndWrittenPastTheCheckpoint_IsCaughtAsDivergent()
    {
        await using var db = TestDatabase.Create();
        await AppendAsync(db, 4);
        var backup = Path.Combine(db.Directory, "old-backup.db");
        DatabaseBackup.ToFile(db.Database, backup);
        await AppendAsync(db, 2);
        await Writer(db).WriteAsync();

        RestoreFrom(db, backup);
        // A broker started on the restored file carries on writing.
        await using (var restarted = new WriteQueue(db.Database, () => { }))
        {
            await AppendAsync(db, 5, "after the restore", writes: restarted);
        }

        var result = Verify(db);
        Assert.False(result.Ok);
        Assert.Equal(6, result.FirstBrokenSequence);
        Assert.Contains("differs from the checkpoint", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_ForgedCheckpointLine_IsCaught()
    {
        await using var db = TestDatabase.Create();
        await AppendAsync(db, 3);
        await Writer(db).WriteAsync();
        var path = CheckpointPath(db);

        // A line claiming a later record, re-using a genuine line's MACs.
        var forged = JsonNode.Parse(File.ReadAllLines(path)[0])!.AsObject();
        forged["sequence"] = 300;
        File.AppendAllText(path, forged.ToJsonString() + "\n");

        var result = Verify(db);
        Assert.False(result.Ok);
        Assert.Contains("line(s) 2 do not verify", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Append_AfterALineTornByACrash_StartsOnANewLineAndVerifies()
    {
        await using var db = TestDatabase.Create();
        await AppendAsync(db, 2);
        var writer = Writer(db);
        await writer.WriteAsync();
        File.AppendAllText(CheckpointPath(db), "{\"sequence\":2,\"ma");

        await AppendAsync(db, 1);
        await writer.WriteAsync();

        var set = AuditCheckpointFile.Read(CheckpointPath(db), db.Keyring);
        Assert.Equal(2, set.Count);
        Assert.Equal(1, set.Unreadable);
        Assert.True(Verify(db).Ok);
    }

    [Fact]
    public async Task Verify_CheckpointsAcrossKeyRotation_StillVerify()
    {
        await using var db = TestDatabase.Create();
        await AppendAsync(db, 2);
        var writer = Writer(db);
        await writer.WriteAsync();
        var (rotated, _) = db.Keyring.BeginRotation((_, _, _) => { });
        db.Keyring.CompleteRotation(rotated);
        await AppendAsync(db, 2);
        await writer.WriteAsync();

        var result = Verify(db);

        Assert.True(result.Ok, result.Problem);
        Assert.Equal(2, result.CheckpointsChecked);
    }

    [Fact]
    public void Read_MissingFile_IsEmpty()
    {
        var set = AuditCheckpointFile.Read(Path.Combine(Path.GetTempPath(), "xares-no-such-checkpoints.jsonl"), null!);

        Assert.Equal(0, set.Count);
        Assert.Null(set.Latest);
    }

    internal static AuditCheckpointWriter Writer(TestDatabase db, TimeProvider? time = null) =>
        new(db.Database, db.Keyring, new BrokerOptions { DataDirectory = db.Directory }, time ?? TimeProvider.System, NullLogger<AuditCheckpointWriter>.Instance);

    internal static string CheckpointPath(TestDatabase db) => Path.Combine(db.Directory, AuditCheckpointFile.DefaultName);

    internal static AuditVerification Verify(TestDatabase db, AuditChain? chain = null)
    {
        using var connection = db.OpenRaw();
        return (chain ?? db.Audit).Verify(connection, AuditCheckpointFile.Read(CheckpointPath(db), db.Keyring));
    }

    private static AuditVerification VerifyWithout(TestDatabase db)
    {
        using var connection = db.OpenRaw();
        return db.Audit.Verify(connection);
    }

    internal static async Task AppendAsync(TestDatabase db, int count, string detail = "record", AuditChain? chain = null, WriteQueue? writes = null)
    {
        for (var i = 0; i < count; i++)
        {
            await (writes ?? db.Writes).ExecuteAsync((c, t) => (chain ?? db.Audit).Append(c, t, new AuditEntry(AuditActions.UserCreate, AuditOutcomes.Success)
            {
                Actor = "apikey:key_test", Detail = detail,
            }));
        }
    }

    // What an operator restoring a file-level backup does: the database file is replaced by the copy
    // (a new file, so connections still open on the old one, like the old write queue's, keep the old).
    private static void RestoreFrom(TestDatabase db, string backup)
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { db.Path, db.Path + "-wal", db.Path + "-shm" })
        {
            File.Delete(file);
        }
        File.Copy(backup, db.Path);
    }

    private static Head ReadHead(TestDatabase db)
    {
        using var connection = db.OpenRaw();
        return Sql.Single(connection, null, "SELECT seq, mac, key_version, anchor FROM audit_head",
            r => new Head(r.GetInt64(0), (byte[])r["mac"], r.GetInt32(2), (byte[])r["anchor"]))!;
    }

    private sealed record Head(long Seq, byte[] Mac, int KeyVersion, byte[] Anchor);
}
