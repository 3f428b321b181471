using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Xares.Broker.Storage;

/// <summary>
/// Opens connections to the broker database with the settings every connection needs. Stores take
/// ADO.NET base types (DbConnection, DbTransaction) and write portable SQL with @name parameters.
/// </summary>
internal sealed class Database
{
    private readonly string _connectionString;

    public Database(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            ForeignKeys = true,
            DefaultTimeout = 30,
            Pooling = true,
        };
        _connectionString = builder.ToString();
        DataSource = builder.DataSource;
    }

    public string DataSource { get; }

    public DbConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // FULL: a commit is on disk before we answer, which is what "audit record durably
        // committed before the secret leaves" needs. Group commit keeps the fsync count low.
        Execute(connection, "PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;");
        return connection;
    }

    public async Task<T> ReadAsync<T>(Func<DbConnection, T> read)
    {
        await using var connection = Open();
        return read(connection);
    }

    /// <summary>True when the failure dooms the whole transaction (I/O error, disk full), not just one unit of work.</summary>
    public static bool IsTransactionFatal(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: 10 or 13 };

    public static void Execute(DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
