using System.Diagnostics;
using Npgsql;

namespace Xares.EndToEnd.Tests.Replication;

/// <summary>
/// The PostgreSQL server scripts/setup-postgres.sh starts (XARES_TEST_POSTGRES, else the file it
/// writes, else the script is run now). Missing means failing, never skipping.
/// </summary>
internal static class PostgresServer
{
    private static readonly Lazy<string> Server = new(Locate, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string ConnectionString => Server.Value;

    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "xares_e2e_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(ConnectionString, $"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(ConnectionString, $"DROP DATABASE IF EXISTS {new NpgsqlConnectionStringBuilder(connectionString).Database} WITH (FORCE)");
    }

    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
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
        if (File.Exists(file) && CanConnect(File.ReadAllText(file).Trim()))
        {
            return File.ReadAllText(file).Trim();
        }
        using var process = Process.Start(new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "scripts", "setup-postgres.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stderr = process.StandardError.ReadToEndAsync();
        var started = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        if (process.ExitCode != 0 || !CanConnect(started))
        {
            throw new InvalidOperationException($"No PostgreSQL server for the replication tests (scripts/setup-postgres.sh): {stderr.Result}");
        }
        return started;
    }

    private static bool CanConnect(string connectionString)
    {
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or ArgumentException)
        {
            return false;
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Xares.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("No Xares.sln above the test binaries.");
    }
}
