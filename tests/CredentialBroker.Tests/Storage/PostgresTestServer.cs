using System.Diagnostics;
using Npgsql;

namespace Xares.Broker.Tests.Storage;

/// <summary>
/// The PostgreSQL server the storage contract runs against: XARES_TEST_POSTGRES, else the
/// connection string scripts/setup-postgres.sh wrote, else this runs the script (which installs
/// and starts a throwaway cluster on loopback, idempotently). No server means the PostgreSQL
/// tests fail; they never skip, so a CI run cannot pass without exercising PostgreSQL.
/// </summary>
internal static class PostgresTestServer
{
    private static readonly Lazy<string> Server = new(Locate, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string ConnectionString => Server.Value;

    /// <summary>A fresh, empty database on the test server; its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "xares_t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
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
        var script = Path.Combine(RepositoryRoot(), "scripts", "setup-postgres.sh");
        using var process = Process.Start(new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || TryConnect(stdout.Trim()) is not { } started)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL server for the storage contract tests: set XARES_TEST_POSTGRES or run scripts/setup-postgres.sh. {stderr.Result}");
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

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Xares.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Xares.sln).");
    }
}
