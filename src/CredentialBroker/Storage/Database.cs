using Microsoft.Data.Sqlite;

namespace Xares.Broker.Storage;

/// <summary>Opens connections to the broker database (SQLite, WAL) with the pragmas every connection needs.</summary>
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

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // FULL: a commit is on disk before we answer, which is what "audit record durably
        // committed before the secret leaves" needs. Group commit keeps the fsync count low.
        Execute(connection, "PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;");
        return connection;
    }

    public async Task<T> ReadAsync<T>(Func<SqliteConnection, T> read)
    {
        await using var connection = Open();
        return read(connection);
    }

    public static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
