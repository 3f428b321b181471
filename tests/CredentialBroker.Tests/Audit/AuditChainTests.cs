using System.Security.Cryptography;
using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;

namespace Xares.Broker.Tests.Audit;

/// <summary>Invariant 6: verify catches edited, removed and reordered records, even with recomputed plain hashes.</summary>
public sealed class AuditChainTests
{
    private const int Records = 6;

    [Fact]
    public async Task Verify_UntouchedChain_IsOk()
    {
        await using var db = await SeededAsync();

        var result = Verify(db);

        Assert.True(result.Ok);
        Assert.Equal(Records, result.VerifiedRecords);
        Assert.Null(result.FirstBrokenSequence);
    }

    [Fact]
    public async Task Verify_EditedRecord_IsCaughtAtThatSequence()
    {
        await using var db = await SeededAsync();

        db.ExecuteRaw("UPDATE audit_log SET detail = 'nothing to see here' WHERE seq = 3");

        AssertBrokenAt(Verify(db), 3);
    }

    [Fact]
    public async Task Verify_EditedActorOnly_IsCaught()
    {
        await using var db = await SeededAsync();

        db.ExecuteRaw("UPDATE audit_log SET actor = 'system', outcome = 'denied' WHERE seq = 5");

        AssertBrokenAt(Verify(db), 5);
    }

    [Fact]
    public async Task Verify_DeletedRecord_IsCaughtAtTheGap()
    {
        await using var db = await SeededAsync();

        db.ExecuteRaw("DELETE FROM audit_log WHERE seq = 2");

        AssertBrokenAt(Verify(db), 2);
    }

    [Fact]
    public async Task Verify_TruncatedTail_IsCaught()
    {
        await using var db = await SeededAsync();

        db.ExecuteRaw("DELETE FROM audit_log WHERE seq > 4");

        AssertBrokenAt(Verify(db), 5);
    }

    [Fact]
    public async Task Verify_TruncatedTailWithHeadMovedBack_IsCaught()
    {
        await using var db = await SeededAsync();

        // Point the head at the new last record, as an editor without the key would try.
        db.ExecuteRaw("DELETE FROM audit_log WHERE seq > 4");
        db.ExecuteRaw("UPDATE audit_head SET seq = 4, mac = (SELECT mac FROM audit_log WHERE seq = 4)");

        Assert.False(Verify(db).Ok);
    }

    [Fact]
    public async Task Verify_DeletedAndRenumbered_IsCaught()
    {
        await using var db = await SeededAsync();

        // Close the gap so the sequence looks continuous.
        db.ExecuteRaw("DELETE FROM audit_log WHERE seq = 2");
        for (var seq = 3; seq <= Records; seq++)
        {
            db.ExecuteRaw("UPDATE audit_log SET seq = $to WHERE seq = $from", ("$to", seq - 1), ("$from", seq));
        }

        AssertBrokenAt(Verify(db), 2);
    }

    [Fact]
    public async Task Verify_ReorderedRecords_IsCaughtAtTheFirstSwapped()
    {
        await using var db = await SeededAsync();

        db.ExecuteRaw("UPDATE audit_log SET seq = -1 WHERE seq = 3");
        db.ExecuteRaw("UPDATE audit_log SET seq = 3 WHERE seq = 4");
        db.ExecuteRaw("UPDATE audit_log SET seq = 4 WHERE seq = -1");

        AssertBrokenAt(Verify(db), 3);
    }

    [Fact]
    public async Task Verify_EditWithRecomputedPlainSha256Chain_IsCaught()
    {
        await using var db = await SeededAsync();

        // An editor without the master key rewrites record 2 and re-chains every later record
        // with a plain SHA-256 over the same fields and the previous "mac".
        using (var connection = db.OpenRaw())
        {
            var previous = (byte[])Sql.Scalar(connection, null, "SELECT mac FROM audit_log WHERE seq = 1")!;
            Sql.Execute(connection, null, "UPDATE audit_log SET detail = 'rewritten' WHERE seq = 2");
            for (var seq = 2; seq <= Records; seq++)
            {
                var record = Sql.Query(connection, null, $"SELECT {AuditRecord.Columns} FROM audit_log WHERE seq = $s", AuditRecord.Read, ("$s", seq)).Single();
                var mac = SHA256.HashData(record.ChainInput(previous));
                Sql.Execute(connection, null, "UPDATE audit_log SET mac = $m WHERE seq = $s", ("$m", mac), ("$s", seq));
                previous = mac;
            }
        }

        AssertBrokenAt(Verify(db), 2);
    }

    [Fact]
    public async Task Verify_UnknownKeyVersion_IsCaught()
    {
        await using var db = await SeededAsync();

        db.ExecuteRaw("UPDATE audit_log SET key_version = 99 WHERE seq = 4");

        AssertBrokenAt(Verify(db), 4);
    }

    private static async Task<TestDatabase> SeededAsync()
    {
        var db = TestDatabase.Create();
        for (var i = 1; i <= Records; i++)
        {
            var n = i;
            await db.Writes.ExecuteAsync((c, t) => db.Audit.Append(c, t, new AuditEntry(AuditActions.UserCreate, AuditOutcomes.Success)
            {
                Actor = "apikey:key_test", UserId = $"usr_{n}", Detail = $"record {n}",
            }));
        }
        return db;
    }

    private static AuditVerification Verify(TestDatabase db)
    {
        using var connection = db.OpenRaw();
        return db.Audit.Verify(connection);
    }

    private static void AssertBrokenAt(AuditVerification result, long sequence)
    {
        Assert.False(result.Ok);
        Assert.Equal(sequence, result.FirstBrokenSequence);
        Assert.Equal(sequence - 1, result.VerifiedRecords);
        Assert.False(string.IsNullOrEmpty(result.Problem));
    }
}
