using System.CommandLine;
using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Xares.Broker.Hosting;
using Xares.Broker.Tests.Support;
using Xares.CommandLine;
using Xares.Tests.Shared;

namespace Xares.Broker.Tests.Hosting;

public sealed class BrokerCommandLineTests
{
    [Fact]
    public async Task AdminCreateKey_LocalDatabase_MintsAWorkingAdminKey()
    {
        await using var host = await BrokerTestHost.StartAsync();

        var (exit, output, _) = Run("admin", "create-key", "--name", "ops", "--data-dir", host.DataDirectory);

        Assert.Equal(0, exit);
        var key = output.Trim();
        Assert.StartsWith("xar_", key, StringComparison.Ordinal);
        using var client = host.CreateClient(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/users")).StatusCode);
        // Invariant 5: it expires, after the same default as a key minted through the API.
        Assert.InRange(ExpiresIn(host, key), TimeSpan.FromDays(90) - TimeSpan.FromMinutes(5), TimeSpan.FromDays(90));
    }

    [Theory]
    [InlineData("12h", 12 * 60)]
    [InlineData("30m", 30)]
    [InlineData("366d", 366 * 24 * 60)]
    public async Task AdminCreateKey_ExpiresIn_KeyExpiresThen(string expiresIn, int minutes)
    {
        await using var host = await BrokerTestHost.StartAsync();

        var (exit, output, error) = Run("admin", "create-key", "--expires-in", expiresIn, "--data-dir", host.DataDirectory);

        Assert.True(exit == 0, error);
        Assert.InRange(ExpiresIn(host, output.Trim()), TimeSpan.FromMinutes(minutes - 5), TimeSpan.FromMinutes(minutes));
        Assert.Contains("valid until", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("367d", "within 366 days")]
    [InlineData("0d", "such as 90d")]
    [InlineData("soon", "such as 90d")]
    [InlineData("12", "such as 90d")]
    [InlineData("-5h", "such as 90d")]
    [InlineData("1.5d", "such as 90d")]
    public async Task AdminCreateKey_BadExpiresIn_RefusedWithoutMintingAKey(string expiresIn, string message)
    {
        await using var host = await BrokerTestHost.StartAsync();
        var keysBefore = KeyCount(host);

        var (exit, output, error) = Run("admin", "create-key", "--expires-in", expiresIn, "--data-dir", host.DataDirectory);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.StartsWith("xares: --expires-in", error, StringComparison.Ordinal);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Equal(keysBefore, KeyCount(host));
    }

    private static TimeSpan ExpiresIn(BrokerTestHost host, string key) =>
        DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(Query(host, "SELECT expires_at FROM api_keys WHERE prefix = $p ORDER BY created_at DESC LIMIT 1", key[..8])))
        - DateTimeOffset.UtcNow;

    private static long KeyCount(BrokerTestHost host) => Convert.ToInt64(Query(host, "SELECT COUNT(*) FROM api_keys WHERE $p IS NOT NULL", "-"));

    private static object? Query(BrokerTestHost host, string sql, string parameter)
    {
        using var connection = new SqliteConnection($"Data Source={host.DatabasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$p", parameter);
        return command.ExecuteScalar();
    }

    [Fact]
    public async Task AuditVerify_IntactThenEdited_ReportsFirstBrokenRecord()
    {
        await using var host = await BrokerTestHost.StartAsync();
        await host.CreateUserAsync();

        var (exit, output, _) = Run("audit", "verify", "--data-dir", host.DataDirectory);
        Assert.Equal(0, exit);
        Assert.Contains("intact", output, StringComparison.Ordinal);

        using (var connection = new SqliteConnection($"Data Source={host.DatabasePath}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1";
            command.ExecuteNonQuery();
        }
        var (brokenExit, _, error) = Run("audit", "verify", "--data-dir", host.DataDirectory);
        Assert.Equal(ExitCodes.CheckFailed, brokenExit);
        Assert.Contains("broken at record 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditVerify_Json_SameShapeAsTheRestRoute()
    {
        await using var host = await BrokerTestHost.StartAsync();
        await host.CreateUserAsync();

        var (exit, output, _) = Run("audit", "verify", "--json", "--data-dir", host.DataDirectory);
        Assert.Equal(ExitCodes.Success, exit);
        using (var intact = JsonDocument.Parse(output))
        {
            Assert.True(intact.RootElement.GetProperty("ok").GetBoolean());
            Assert.True(intact.RootElement.GetProperty("verifiedRecords").GetInt64() > 0);
            Assert.Equal(JsonValueKind.Null, intact.RootElement.GetProperty("firstBrokenSequence").ValueKind);
            Assert.Equal(1, intact.RootElement.GetProperty("firstSequence").GetInt64());
            Assert.Equal(0, intact.RootElement.GetProperty("checkpointsChecked").GetInt32());
        }

        using (var connection = new SqliteConnection($"Data Source={host.DatabasePath}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1";
            command.ExecuteNonQuery();
        }
        var (brokenExit, brokenOutput, _) = Run("audit", "verify", "--json", "--data-dir", host.DataDirectory);
        Assert.Equal(ExitCodes.CheckFailed, brokenExit);
        using var broken = JsonDocument.Parse(brokenOutput);
        Assert.False(broken.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal(1, broken.RootElement.GetProperty("firstBrokenSequence").GetInt64());
        Assert.False(string.IsNullOrEmpty(broken.RootElement.GetProperty("problem").GetString()));
    }

    [Theory]
    [InlineData(new[] { "keys", "stats" }, "xares: keys: unknown command 'stats'; did you mean 'status'?", "xares-broker keys")]
    [InlineData(new[] { "keys" }, "xares: keys: a command is required: rotate, rekey, status, prune", "xares-broker keys")]
    [InlineData(new[] { "serve", "--lease-ttl-seconds", "abc" }, "xares: --lease-ttl-seconds: expected a whole number, got 'abc'", "xares-broker serve")]
    [InlineData(new[] { "--bootstrap-ttl-seconds", "1.5" }, "xares: --bootstrap-ttl-seconds: expected a whole number, got '1.5'", "xares-broker")]
    [InlineData(new[] { "docker", "claim", "--name", "w" }, "xares: docker claim: --user is required", "xares-broker docker claim")]
    [InlineData(new[] { "backup" }, "xares: backup: --to is required", "xares-broker backup")]
    [InlineData(new[] { "audit", "verify", "--jsno" }, "xares: audit verify: unknown option '--jsno'; did you mean '--json'?", "xares-broker audit verify")]
    public async Task Run_BadCommandLine_OneLineThenHintExit2(string[] args, string line, string helpCommand)
    {
        var (exit, output, error) = await RunAsync(args);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Equal("", output);
        Assert.Equal($"{line}\nRun '{helpCommand} --help' for usage.\n", error.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("keys", "status", "--help")]
    [InlineData("--version")]
    public async Task Run_HelpOrVersion_Exit0(params string[] args)
    {
        var (exit, output, error) = await RunAsync(args);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.NotEqual("", output);
        Assert.Equal("", error);
    }

    [Theory]
    [InlineData(new[] { "keys", "st" }, new[] { "status" })]
    [InlineData(new[] { "keys", "status", "--js" }, new[] { "--json" })]
    [InlineData(new[] { "audit", "verify", "--audit-checkpoint-f" }, new[] { "--audit-checkpoint-file" })]
    [InlineData(new[] { "keys", "status", "--data-d" }, new[] { "--data-dir" })]
    [InlineData(new[] { "comp" }, new[] { "completion" })]
    public async Task Completion_Bash_CompletesNestedCommandsAndInheritedOptions(string[] words, string[] expected)
    {
        var (exit, script, _) = await RunAsync("completion", "bash");
        Assert.Equal(ExitCodes.Success, exit);
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, script);
            Assert.Equal(expected, await ShellCompletion.BashAsync(file, BrokerCommandLine.Program, words));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Migrate_EmptyDirectory_ReportsLatestSchemaVersion()
    {
        var dir = Directory.CreateTempSubdirectory("xares-migrate-").FullName;
        try
        {
            var (exit, output, _) = Run("migrate", "--data-dir", dir);
            Assert.Equal(0, exit);
            Assert.Contains($"version {Xares.Broker.Storage.Migrator.LatestVersion}", output, StringComparison.Ordinal);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("--ended-retention-days", "0")]
    [InlineData("--ended-retention-days", "soon")]
    [InlineData("--ended-retention-days", "1000000")] // the cutoff would fall before year 1
    [InlineData("--lease-ttl-seconds", "0")] // every lease would be born expired
    [InlineData("--session-ttl-seconds", "-5")]
    [InlineData("--bootstrap-ttl-seconds", "99999999")] // more than a year
    [InlineData("--credential-test-interval-minutes", "-1")]
    public void Serve_DurationOutOfRange_RefusesToStartNamingTheOption(string option, string value)
    {
        var dir = Directory.CreateTempSubdirectory("xares-durations-").FullName;
        try
        {
            var (exit, _, error) = Run("serve", "--data-dir", dir, option, value);

            Assert.NotEqual(0, exit);
            Assert.Contains(option, error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Serve_BadOutboundAllowEntry_RefusesToStartNamingTheOption()
    {
        var dir = Directory.CreateTempSubdirectory("xares-outbound-").FullName;
        try
        {
            var (exit, _, error) = Run("serve", "--data-dir", dir, "--outbound-allow", "127.0.0.1", "--outbound-allow", "git.internal:8443,10.0.0.0/99");

            Assert.NotEqual(0, exit);
            Assert.Contains("--outbound-allow entry \"10.0.0.0/99\"", error, StringComparison.Ordinal);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await BrokerCommandLine.RunAsync(args, new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = BrokerCommandLine.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }
}
