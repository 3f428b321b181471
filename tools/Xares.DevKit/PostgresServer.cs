using System.Diagnostics;
using Npgsql;

namespace Xares.DevKit;

/// <summary>
/// The PostgreSQL server the tests run against: XARES_TEST_POSTGRES, else the connection string
/// scripts/setup-postgres.sh wrote, else this runs the script (which installs and starts a
/// throwaway cluster on loopback, idempotently). No server means the PostgreSQL tests fail; they
/// never skip, so a CI run cannot pass without exercising PostgreSQL.
/// </summary>
internal static class PostgresServer
{
    private static readonly Lazy<string> Server = new(Locate, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string ConnectionString => Server.Value;

    /// <summary>A fresh, empty database on the test server; its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "xares_t_" + Guid.NewGuid().ToString("N")[..16];
        await ScalarAsync(ConnectionString, $"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        NpgsqlConnection.ClearAllPools();
        await ScalarAsync(ConnectionString, $"DROP DATABASE IF EXISTS {new NpgsqlConnectionStringBuilder(connectionString).Database} WITH (FORCE)");
    }

    /// <summary>Runs <paramref name="sql"/>; its first column of the first row as a number (0 when it returns none).</summary>
    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync() is { } value and not DBNull ? Convert.ToInt64(value) : 0;
    }

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable("XARES_TEST_POSTGRES") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }
        var directory = Environment.GetEnvironmentVariable("XARES_PG_DIR") is { Length: > 0 } d ? d : "/tmp/xares-postgres";
        var file = Path.Combine(directory, "connection-string");
        if (File.Exists(file) && TryConnect(File.ReadAllText(file).Trim()) is { } written)
        {
            return written;
        }
        var script = Path.Combine(Artifacts.RepositoryRoot, "scripts", "setup-postgres.sh");
        using var process = Process.Start(new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || TryConnect(stdout.Trim()) is not { } started)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL server for the tests: set XARES_TEST_POSTGRES or run scripts/setup-postgres.sh. {stderr.Result}");
        }
        return started;
    }

    private static string? TryConnect(string connectionString)
    {
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            return connectionString;
        }
        catch (Exception ex) when (ex is NpgsqlException or ArgumentException)
        {
            return null;
        }
    }
}
