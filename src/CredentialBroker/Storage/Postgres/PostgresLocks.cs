using System.Data.Common;
using Npgsql;

namespace Xares.Broker.Storage.Postgres;

/// <summary>
/// The advisory locks broker replicas coordinate with. Keys are fixed 64-bit numbers in one
/// namespace ("xares" in ASCII in the high bytes) so they do not collide with other applications
/// sharing the database.
/// </summary>
internal static class PostgresLocks
{
    /// <summary>Held (session-level) while migrations run: concurrent starts migrate exactly once.</summary>
    public const long Migrations = 0x7861726573_000001;

    /// <summary>Held (transaction-level) by every write batch: one writer at a time across replicas.</summary>
    public const long Writes = 0x7861726573_000002;

    // Set on the write queue's thread while its batch transaction holds the lock: the audit
    // chain and revocation log then skip re-taking it (one round trip per record saved).
    [ThreadStatic]
    private static bool t_batchHoldsLock;

    [ThreadStatic]
    private static long t_batch;

    /// <summary>Takes <see cref="Writes"/> for the rest of the transaction; nothing on other databases.</summary>
    public static void LockWrites(DbConnection connection, DbTransaction transaction)
    {
        if (connection is NpgsqlConnection && !t_batchHoldsLock)
        {
            Sql.Execute(connection, transaction, LockSql, ("@key", Writes));
        }
    }

    /// <summary>
    /// Takes <see cref="Writes"/> for a write-queue batch; <see cref="EndBatch"/> when its transaction
    /// ends. With writes held back the lock statement is held back too, as the batch's first: it
    /// then costs no round trip of its own, and every statement of the batch still runs after it.
    /// </summary>
    public static void LockForBatch(DbConnection connection, DbTransaction transaction)
    {
        t_batchHoldsLock = false;
        if (connection is not NpgsqlConnection)
        {
            return;
        }
        t_batchHoldsLock = true;
        t_batch++;
        if (!PendingWrites.TryDefer(connection, LockSql, [("@key", Writes)], returnsRows: true))
        {
            Sql.Execute(connection, transaction, LockSql, ("@key", Writes));
        }
    }

    private const string LockSql = "SELECT pg_advisory_xact_lock(@key)";

    /// <summary>
    /// Identifies the write-queue batch transaction running on this thread while it holds the lock
    /// (null otherwise). Within one, nobody else appends, and a failing unit rolls the whole
    /// transaction back, so state remembered under the same id is exactly the database's.
    /// </summary>
    public static long? CurrentBatch => t_batchHoldsLock ? t_batch : null;

    public static void EndBatch() => t_batchHoldsLock = false;

    public static void LockMigrations(DbConnection connection) =>
        Sql.Execute(connection, null, "SELECT pg_advisory_lock(@key)", ("@key", Migrations));

    public static void UnlockMigrations(DbConnection connection) =>
        Sql.Execute(connection, null, "SELECT pg_advisory_unlock(@key)", ("@key", Migrations));
}
