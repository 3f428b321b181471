using Microsoft.Data.Sqlite;
using Xares.Broker.Storage;

namespace Xares.Broker.Tests.Storage;

public sealed class WriteQueueTests
{
    [Fact]
    public async Task ExecuteAsync_FailingUnitInBatch_RollsBackAloneWhileOthersCommit()
    {
        await using var db = TestDatabase.Create();
        using var release = new ManualResetEventSlim();
        var blocker = HoldWriterAsync(db, release);
        var transactions = new List<System.Data.Common.DbTransaction>();

        var first = db.Writes.ExecuteAsync((c, t) => { transactions.Add(t); InsertUser(c, t, "usr_first"); });
        var failing = db.Writes.ExecuteAsync((c, t) =>
        {
            transactions.Add(t);
            InsertUser(c, t, "usr_failing");
            throw new InvalidOperationException("unit failed after writing");
        });
        var duplicate = db.Writes.ExecuteAsync((c, t) => { transactions.Add(t); InsertUser(c, t, "usr_first"); });
        var last = db.Writes.ExecuteAsync((c, t) => { transactions.Add(t); InsertUser(c, t, "usr_last"); });
        release.Set();
        await blocker;

        await first;
        await last;
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        await Assert.ThrowsAsync<SqliteException>(() => duplicate);
        Assert.Equal(4, transactions.Count);
        Assert.All(transactions, t => Assert.Same(transactions[0], t));
        Assert.Equal(["usr_first", "usr_last"], Users(db));
    }

    [Fact]
    public async Task ExecuteAsync_CallerTask_CompletesOnlyAfterCommit()
    {
        await using var db = TestDatabase.Create();
        using var releaseWriter = new ManualResetEventSlim();
        using var releaseBatch = new ManualResetEventSlim();
        using var holding = new ManualResetEventSlim();
        var blocker = HoldWriterAsync(db, releaseWriter);

        var write = db.Writes.ExecuteAsync((c, t) => { InsertUser(c, t, "usr_durable"); return "done"; });
        // A second unit in the same batch keeps the batch open after the first one has run.
        var hold = db.Writes.ExecuteAsync((c, t) => { holding.Set(); releaseBatch.Wait(TimeSpan.FromSeconds(30)); });
        releaseWriter.Set();
        await blocker;
        Assert.True(holding.Wait(TimeSpan.FromSeconds(30)));

        // The first unit has run but its batch has not committed: its task is pending and nobody else sees the row.
        await Task.Delay(100);
        Assert.False(write.IsCompleted);
        Assert.Empty(Users(db));

        releaseBatch.Set();
        Assert.Equal("done", await write);
        await hold;
        Assert.Equal(["usr_durable"], Users(db));
    }

    [Fact]
    public async Task ExecuteAsync_AfterDispose_Throws()
    {
        var db = TestDatabase.Create();
        await db.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => { _ = db.Writes.ExecuteAsync((c, t) => { }); });
    }

    // Occupies the single writer until released, so the units queued meanwhile form one batch.
    private static Task HoldWriterAsync(TestDatabase db, ManualResetEventSlim release)
    {
        using var started = new ManualResetEventSlim();
        var task = db.Writes.ExecuteAsync((c, t) =>
        {
            started.Set();
            release.Wait(TimeSpan.FromSeconds(30));
        });
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)));
        return task;
    }

    private static void InsertUser(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, string id) =>
        Sql.Execute(connection, transaction, "INSERT INTO users (id, name, created_at) VALUES ($id, 'n', 0)", ("$id", id));

    private static List<string> Users(TestDatabase db)
    {
        using var connection = db.OpenRaw();
        return Sql.Query(connection, null, "SELECT id FROM users ORDER BY id", r => r.GetString(0));
    }
}
