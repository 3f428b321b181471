using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xares.Broker.Storage.Postgres;

namespace Xares.Broker.Storage;

internal enum DatabaseKind
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Opens connections to the broker database with the settings every connection needs: SQLite by
/// default, PostgreSQL when the connection string starts with `Host=` (README, PostgreSQL). Stores take
/// ADO.NET base types (DbConnection, DbTransaction) and write SQL that both dialects accept.
/// </summary>
internal sealed class Database : IDisposable
{
    private readonly string _connectionString = "";
    private readonly NpgsqlDataSource? _postgres;

    // Read-only calls leave no session state behind (no LISTEN, SET, advisory or temporary
    // objects), so their pool skips the reset statements Npgsql otherwise runs on every reuse.
    private readonly NpgsqlDataSource? _postgresReads;

    public Database(string connectionString)
    {
        if (IsPostgres(connectionString))
        {
            Kind = DatabaseKind.Postgres;
            _postgres = PostgresConnections.CreateDataSource(connectionString, resetOnReuse: true, out var description);
            _postgresReads = PostgresConnections.CreateDataSource(connectionString, resetOnReuse: false, out _);
            _connectionString = connectionString;
            DataSource = description;
            return;
        }
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            ForeignKeys = true,
            DefaultTimeout = 30,
            Pooling = true,
        };
        _connectionString = builder.ToString();
        DataSource = builder.DataSource;
    }

    public DatabaseKind Kind { get; }

    /// <summary>Where the data lives, without credentials (a file path, or host:port/database).</summary>
    public string DataSource { get; }

    /// <summary>The connection string as given (it may hold a password: never log it).</summary>
    internal string ConnectionString => _connectionString;

    public static bool IsPostgres(string connectionString) =>
        connectionString.TrimStart().StartsWith("Host=", StringComparison.OrdinalIgnoreCase);

    public DbConnection Open()
    {
        if (_postgres is not null)
        {
            return _postgres.OpenConnection();
        }
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // FULL: a commit is on disk before we answer, which is what "audit record durably
        // committed before the secret leaves" needs. Group commit keeps the fsync count low.
        Execute(connection, "PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;");
        return connection;
    }

    /// <summary>Runs reads outside any transaction; <paramref name="read"/> must leave no session state behind.</summary>
    public async Task<T> ReadAsync<T>(Func<DbConnection, T> read)
    {
        await using var connection = _postgresReads?.OpenConnection() ?? Open();
        return read(connection);
    }

    /// <summary>
    /// Serialises writers across broker replicas until the transaction ends (a no-op on SQLite,
    /// which has one writer by construction). Every write batch takes it first, so the audit chain
    /// has one appender at a time, revocation sequence numbers become visible in order, and no two
    /// batches can deadlock on row locks. Re-entrant: taking it again in the same transaction is free.
    /// </summary>
    public static void LockForWrite(DbConnection connection, DbTransaction transaction) =>
        PostgresLocks.LockWrites(connection, transaction);

    /// <summary>True when the failure dooms the whole transaction (I/O error, disk full, connection lost), not just one unit of work.</summary>
    public static bool IsTransactionFatal(Exception exception) => exception switch
    {
        SqliteException { SqliteErrorCode: 10 or 13 } => true,
        PostgresException pg => PostgresConnections.IsFatal(pg),
        NpgsqlException => true,
        _ => false,
    };

    public static void Execute(DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _postgres?.Dispose();
        _postgresReads?.Dispose();
    }
}
