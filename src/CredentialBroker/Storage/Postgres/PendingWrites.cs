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
    private static readonly ConditionalWeakTable<DbConnection, List<NpgsqlBatchCommand>> ByConnection = new();

    // Off for a batch rerun after a held-back write failed: each unit's writes then fail in the unit itself.
    [ThreadStatic]
    private static bool t_enabled;

    public static void Enable(bool enabled) => t_enabled = enabled;

    /// <summary>Holds the statement back when inside a PostgreSQL write batch; false when it must run now.</summary>
    public static bool TryDefer(DbConnection connection, string sql, (string Name, object? Value)[] parameters)
    {
        if (!t_enabled || connection is not NpgsqlConnection || PostgresLocks.CurrentBatch is null)
        {
            return false;
        }
        ByConnection.GetOrCreateValue(connection).Add(Command(sql, parameters));
        return true;
    }

    /// <summary>
    /// The held-back writes followed by this statement, as one batch to run now, or null when nothing
    /// is pending (the statement then runs alone).
    /// </summary>
    public static NpgsqlBatch? With(DbConnection connection, DbTransaction? transaction, string sql, (string Name, object? Value)[] parameters)
    {
        if (!ByConnection.TryGetValue(connection, out var pending) || pending.Count == 0)
        {
            return null;
        }
        var batch = Take((NpgsqlConnection)connection, transaction, pending);
        batch.BatchCommands.Add(Command(sql, parameters));
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
    public static T Run<T>(NpgsqlBatch batch, Func<NpgsqlBatch, T> execute) => Run(batch, execute, lastIsDeferred: false);

    private static T Run<T>(NpgsqlBatch batch, Func<NpgsqlBatch, T> execute, bool lastIsDeferred)
    {
        try
        {
            return execute(batch);
        }
        catch (PostgresException ex) when (!PostgresConnections.IsFatal(ex) && (lastIsDeferred || ex.BatchCommand != batch.BatchCommands[^1]))
        {
            throw new DeferredWriteFailedException(ex);
        }
    }

    private static NpgsqlBatch Take(NpgsqlConnection connection, DbTransaction? transaction, List<NpgsqlBatchCommand> pending)
    {
        var batch = new NpgsqlBatch(connection, (NpgsqlTransaction?)transaction);
        foreach (var command in pending)
        {
            batch.BatchCommands.Add(command);
        }
        pending.Clear();
        return batch;
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

/// <summary>A held-back write failed; the batch must run again without holding writes back.</summary>
internal sealed class DeferredWriteFailedException(Exception inner) : Exception("A held-back write of the batch failed.", inner);
