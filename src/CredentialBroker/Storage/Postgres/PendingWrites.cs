using System.Data.Common;
using System.Runtime.CompilerServices;
using Npgsql;

namespace Xares.Broker.Storage.Postgres;

/// <summary>
/// Writes whose outcome nobody waits for (the batch lock, lease rows, audit records, the chain
/// head, usage counters), held back inside a PostgreSQL write batch and sent with the batch's next
/// statement as one NpgsqlBatch, or with the COMMIT: a round trip costs more than the statement,
/// and these writes would otherwise be most of a lease's round trips. Every statement of a write
/// unit goes through <see cref="Sql"/>, which sends what is pending first, so units still see their
/// own and earlier units' writes in order. Elsewhere (SQLite, reads, writes outside a batch)
/// writes run at once.
/// </summary>
internal static class PendingWrites
{
    /// <summary>SQLSTATE of a held-back conditional write that changed no row (see <see cref="TryDefer"/>).</summary>
    private const string NoRowState = "22012";

    private static readonly ConditionalWeakTable<DbConnection, List<Pending>> ByConnection = new();

    private static readonly ConditionalWeakTable<DbConnection, List<Action>> BeforeSendByConnection = new();

    /// <summary>
    /// A held-back statement. <see cref="OnNoRow"/> is set for a conditional write that must change a
    /// row, <see cref="FoldKey"/> for one later writes of the same key fold into; <see cref="ReturnsRows"/>
    /// when it returns rows nobody reads.
    /// </summary>
    internal sealed record Pending(NpgsqlBatchCommand Command, Action? OnNoRow = null, string? FoldKey = null, bool ReturnsRows = false);

    // Off for a batch rerun after a held-back write failed: each unit's writes then fail in the unit itself.
    [ThreadStatic]
    private static bool t_enabled;

    public static void Enable(bool enabled) => t_enabled = enabled;

    private static bool Deferring(DbConnection connection) =>
        t_enabled && connection is NpgsqlConnection && PostgresLocks.CurrentBatch is not null;

    /// <summary>Holds the statement back when inside a PostgreSQL write batch; false when it must run now.</summary>
    /// <param name="returnsRows">The statement returns rows nobody reads (the batch lock): a reader skips them.</param>
    public static bool TryDefer(DbConnection connection, string sql, (string Name, object? Value)[] parameters, bool returnsRows = false)
    {
        if (!Deferring(connection))
        {
            return false;
        }
        ByConnection.GetOrCreateValue(connection).Add(new Pending(Command(sql, parameters), ReturnsRows: returnsRows));
        return true;
    }

    /// <summary>
    /// Holds back a conditional write (INSERT … SELECT … WHERE, UPDATE … WHERE) that must change a row.
    /// It is sent so that changing none is an error, which aborts the batch before its COMMIT:
    /// <paramref name="onNoRow"/> then runs and the batch fails with <see cref="DeferredWriteFailedException.Stale"/>,
    /// so the write queue runs it again (the callback notes which unit's decision went stale).
    /// </summary>
    public static bool TryDeferConditional(DbConnection connection, string sql, (string Name, object? Value)[] parameters, Action onNoRow)
    {
        if (!Deferring(connection))
        {
            return false;
        }
        var failsOnNoRow = $"WITH written AS ({sql} RETURNING 1) SELECT 1 / COUNT(*) FROM written";
        ByConnection.GetOrCreateValue(connection).Add(new Pending(Command(failsOnNoRow, parameters), onNoRow, ReturnsRows: true));
        return true;
    }

    /// <summary>
    /// Holds back a write that later ones with the same <paramref name="foldKey"/> fold into while it
    /// is still pending (a counter's increments, the newest chain head): instead of another
    /// statement, the pending one takes the new values, adding them for <paramref name="summed"/>
    /// parameters. Only for writes whose intermediate states nobody reads (any statement sent
    /// meanwhile sends the pending one first, and the next write of the key starts afresh).
    /// </summary>
    public static bool TryDeferFolded(DbConnection connection, string foldKey, string sql, (string Name, object? Value)[] parameters,
        IReadOnlyCollection<string> summed)
    {
        if (!Deferring(connection))
        {
            return false;
        }
        var pending = ByConnection.GetOrCreateValue(connection);
        if (pending.FindLast(p => p.FoldKey == foldKey) is { } earlier && earlier.Command.CommandText == sql)
        {
            foreach (var (name, value) in parameters)
            {
                var parameter = earlier.Command.Parameters[name];
                parameter.Value = summed.Contains(name) ? Convert.ToInt64(parameter.Value) + Convert.ToInt64(value) : value ?? DBNull.Value;
            }
            return true;
        }
        pending.Add(new Pending(Command(sql, parameters), FoldKey: foldKey));
        return true;
    }

    /// <summary>
    /// Defers work that can only write once something is read under the batch's lock (the audit
    /// chain's records need the chain's end): <paramref name="beforeSend"/> runs, once, when the
    /// batch next sends a statement or commits, ahead of what is held back then. Its own reads go
    /// out with the writes held back before it. False when it must run now.
    /// </summary>
    public static bool TryDeferUntilSend(DbConnection connection, Action beforeSend)
    {
        if (!Deferring(connection))
        {
            return false;
        }
        BeforeSendByConnection.GetOrCreateValue(connection).Add(beforeSend);
        return true;
    }

    private static void RunBeforeSend(DbConnection connection)
    {
        if (!BeforeSendByConnection.TryGetValue(connection, out var waiting) || waiting.Count == 0)
        {
            return;
        }
        // Taken out first: the work's own statements come back through here.
        var work = waiting.ToArray();
        waiting.Clear();
        foreach (var beforeSend in work)
        {
            beforeSend();
        }
    }

    /// <summary>
    /// The held-back writes followed by this statement, as one batch to run now, or null when nothing
    /// is pending (the statement then runs alone).
    /// </summary>
    public static HeldBatch? With(DbConnection connection, DbTransaction? transaction, string sql, (string Name, object? Value)[] parameters)
    {
        RunBeforeSend(connection);
        if (!ByConnection.TryGetValue(connection, out var pending) || pending.Count == 0)
        {
            return null;
        }
        var batch = Take((NpgsqlConnection)connection, transaction, pending);
        batch.Batch.BatchCommands.Add(Command(sql, parameters));
        return batch;
    }

    /// <summary>
    /// Commits the batch's transaction; what is still held back goes in the same round trip, ahead of
    /// the COMMIT (a failing write, or a conditional one that changed nothing, stops the batch before
    /// the COMMIT runs, and the transaction is left to roll back).
    /// </summary>
    /// <param name="beforeCommit">Runs once the held-back work is numbered and before anything is sent; what it throws stops the commit.</param>
    public static void Commit(DbConnection connection, DbTransaction transaction, Action beforeCommit)
    {
        RunBeforeSend(connection);
        beforeCommit();
        if (!ByConnection.TryGetValue(connection, out var pending) || pending.Count == 0)
        {
            transaction.Commit();
            return;
        }
        using var batch = Take((NpgsqlConnection)connection, transaction, pending);
        batch.Batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        // Npgsql sees the transaction end (the server reports it idle), so disposing it rolls nothing back.
        Run(batch, b => b.ExecuteNonQueryAsync());
    }

    /// <summary>Forgets what is held back (the transaction rolled back).</summary>
    public static void Discard(DbConnection connection)
    {
        if (ByConnection.TryGetValue(connection, out var pending))
        {
            pending.Clear();
        }
        if (BeforeSendByConnection.TryGetValue(connection, out var waiting))
        {
            waiting.Clear();
        }
    }

    /// <summary>
    /// Runs a batch from <see cref="With"/>. A failure of a held-back write is not the fault of the
    /// unit running now: it surfaces as <see cref="DeferredWriteFailedException"/>, and the write
    /// queue reruns the batch (with nothing held back, or, when a conditional write found its
    /// condition changed, as before).
    /// </summary>
    public static T Run<T>(HeldBatch held, Func<NpgsqlBatch, Task<T>> execute)
    {
        var batch = held.Batch;
        T result = default!;
        try
        {
            // Npgsql's synchronous API sends a multi-statement batch from a helper thread of its own,
            // and now and then that hand-off left the batch unsent for 0.5-1 s while this transaction
            // held the cluster-wide write lock (PostgreSQL sat in ClientRead; no GC, no thread-pool
            // backlog). Its asynchronous API sends on the calling thread; the writer waits for it.
            result = execute(batch).GetAwaiter().GetResult();
            // A reader starts at the first statement that returns rows: step past the held-back
            // ones (their rows are not for the caller; a failing one throws here).
            if (result is DbDataReader reader)
            {
                foreach (var write in held.Writes.Where(w => w.ReturnsRows))
                {
                    reader.NextResult();
                }
            }
            return result;
        }
        catch (PostgresException ex) when (ex.SqlState == NoRowState && held.Writes.FirstOrDefault(w => w.Command == ex.BatchCommand) is { OnNoRow: { } onNoRow })
        {
            (result as IDisposable)?.Dispose();
            onNoRow();
            throw new DeferredWriteFailedException(ex, stale: true);
        }
        catch (PostgresException ex) when (!PostgresConnections.IsFatal(ex) && ex.BatchCommand != batch.BatchCommands[^1])
        {
            (result as IDisposable)?.Dispose();
            throw new DeferredWriteFailedException(ex, stale: false);
        }
    }

    private static HeldBatch Take(NpgsqlConnection connection, DbTransaction? transaction, List<Pending> pending)
    {
        var batch = new NpgsqlBatch(connection, (NpgsqlTransaction?)transaction);
        foreach (var write in pending)
        {
            batch.BatchCommands.Add(write.Command);
        }
        var writes = pending.ToArray();
        pending.Clear();
        return new HeldBatch(batch, writes);
    }

    /// <summary>An NpgsqlBatch of held-back writes (and perhaps one statement to run now after them).</summary>
    internal sealed class HeldBatch(NpgsqlBatch batch, Pending[] writes) : IDisposable
    {
        public NpgsqlBatch Batch { get; } = batch;

        internal Pending[] Writes { get; } = writes;

        public void Dispose() => Batch.Dispose();
    }

    private static NpgsqlBatchCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter(name, value ?? DBNull.Value));
        }
        return command;
    }
}

/// <summary>
/// A held-back write failed, or (<see cref="Stale"/>) a held-back conditional write found its
/// condition no longer true. Either way the batch runs again: after a failure without holding writes
/// back, so the failure lands on the unit that caused it; after a stale condition as before, since
/// the unit whose decision went stale now decides inside the transaction.
/// </summary>
internal sealed class DeferredWriteFailedException(Exception? inner, bool stale)
    : Exception(stale ? "A held-back conditional write found its condition changed." : "A held-back write of the batch failed.", inner)
{
    public bool Stale { get; } = stale;
}
