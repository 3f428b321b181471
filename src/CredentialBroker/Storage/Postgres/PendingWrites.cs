using System.Data.Common;
using System.Runtime.CompilerServices;
using Npgsql;

namespace Xares.Broker.Storage.Postgres;

/// <summary>
/// Writes whose outcome nobody waits for (lease rows, audit records, the chain head), held back
/// inside a PostgreSQL write batch and sent with the batch's next statement as one NpgsqlBatch, or
/// just before the commit: a round trip costs more than the statement, and these writes would
/// otherwise be most of a lease's round trips. Every statement of a write unit goes through
/// <see cref="Sql"/>, which sends what is pending first, so units still see their own and earlier
/// units' writes in order. Elsewhere (SQLite, reads, writes outside a batch) writes run at once.
/// </summary>
internal static class PendingWrites
{
    private static readonly ConditionalWeakTable<DbConnection, List<Pending>> ByConnection = new();

    /// <summary>
    /// A held-back statement; <see cref="OnNoRow"/> is set for a conditional write that must change
    /// a row, <see cref="FoldKey"/> for one that later writes of the same key fold into.
    /// </summary>
    internal sealed record Pending(NpgsqlBatchCommand Command, Action? OnNoRow, string? FoldKey = null);

    // Off for a batch rerun after a held-back write failed: each unit's writes then fail in the unit itself.
    [ThreadStatic]
    private static bool t_enabled;

    public static void Enable(bool enabled) => t_enabled = enabled;

    /// <summary>Holds the statement back when inside a PostgreSQL write batch; false when it must run now.</summary>
    /// <param name="onNoRow">
    /// For a conditional write that must change a row: called when, once sent, it changed none;
    /// the batch then fails with <see cref="DeferredWriteFailedException.Stale"/> set, so the write
    /// queue runs it again (the caller's callback notes which decision went stale).
    /// </param>
    public static bool TryDefer(DbConnection connection, string sql, (string Name, object? Value)[] parameters, Action? onNoRow = null)
    {
        if (!t_enabled || connection is not NpgsqlConnection || PostgresLocks.CurrentBatch is null)
        {
            return false;
        }
        ByConnection.GetOrCreateValue(connection).Add(new Pending(Command(sql, parameters), onNoRow));
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
        if (!t_enabled || connection is not NpgsqlConnection || PostgresLocks.CurrentBatch is null)
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
        pending.Add(new Pending(Command(sql, parameters), null, foldKey));
        return true;
    }

    /// <summary>
    /// The held-back writes followed by this statement, as one batch to run now, or null when nothing
    /// is pending (the statement then runs alone).
    /// </summary>
    public static HeldBatch? With(DbConnection connection, DbTransaction? transaction, string sql, (string Name, object? Value)[] parameters)
    {
        if (!ByConnection.TryGetValue(connection, out var pending) || pending.Count == 0)
        {
            return null;
        }
        var batch = Take((NpgsqlConnection)connection, transaction, pending);
        batch.Batch.BatchCommands.Add(Command(sql, parameters));
        return batch;
    }

    /// <summary>Sends what is still held back (before the commit).</summary>
    public static void Flush(DbConnection connection, DbTransaction transaction)
    {
        if (ByConnection.TryGetValue(connection, out var pending) && pending.Count > 0)
        {
            using var batch = Take((NpgsqlConnection)connection, transaction, pending);
            Run(batch, b => b.ExecuteNonQuery(), lastIsDeferred: true);
        }
    }

    /// <summary>Forgets what is held back (the transaction rolled back).</summary>
    public static void Discard(DbConnection connection)
    {
        if (ByConnection.TryGetValue(connection, out var pending))
        {
            pending.Clear();
        }
    }

    /// <summary>
    /// Runs a batch from <see cref="With"/>. A failure of a held-back write is not the fault of the
    /// unit running now: it surfaces as <see cref="DeferredWriteFailedException"/>, and the write
    /// queue reruns the batch with nothing held back.
    /// </summary>
    public static T Run<T>(HeldBatch batch, Func<NpgsqlBatch, T> execute) => Run(batch, execute, lastIsDeferred: false);

    private static T Run<T>(HeldBatch held, Func<NpgsqlBatch, T> execute, bool lastIsDeferred)
    {
        var batch = held.Batch;
        T result;
        try
        {
            result = execute(batch);
        }
        catch (PostgresException ex) when (!PostgresConnections.IsFatal(ex) && (lastIsDeferred || ex.BatchCommand != batch.BatchCommands[^1]))
        {
            throw new DeferredWriteFailedException(ex, stale: false);
        }
        // The held-back statements have run by now (a reader is past them: they return no rows).
        var stale = false;
        foreach (var write in held.Writes)
        {
            if (write.OnNoRow is not null && write.Command.RecordsAffected == 0)
            {
                write.OnNoRow();
                stale = true;
            }
        }
        if (stale)
        {
            (result as IDisposable)?.Dispose();
            throw new DeferredWriteFailedException(null, stale: true);
        }
        return result;
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
