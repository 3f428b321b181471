using System.CommandLine;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Audit;

/// <summary>Checkpoints and retention in a running broker, checked through REST and `xares-broker audit verify`.</summary>
public sealed class AuditOperationsHostTests
{
    [Fact]
    public async Task Checkpoints_WrittenAtShutdown_ThenAnOlderBackupRestored_VerifyFails()
    {
        var directory = Directory.CreateTempSubdirectory("xares-audit-ops-").FullName;
        var checkpointFile = Path.Combine(directory, "elsewhere", "checkpoints.jsonl");
        try
        {
            await using (var broker = await SocketBroker.StartAsync(o => o with { DataDirectory = directory, Audit = new AuditSettings { CheckpointFile = checkpointFile } }))
            {
                await broker.CreateUserAsync("alice");
                var (backupExit, _, _) = Run("backup", "--to", Path.Combine(directory, "older.db"), "--data-dir", directory);
                Assert.Equal(0, backupExit);
                await broker.CreateUserAsync("bob");
                await broker.CreateUserAsync("carol");
                await broker.StopAsync();
            }
            // The shutdown checkpoint names the last record.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(checkpointFile));
            var (okExit, okOutput, _) = Run("audit", "verify", "--data-dir", directory, "--audit-checkpoint-file", checkpointFile);
            Assert.Equal(0, okExit);
            Assert.Contains("1 checkpoints", okOutput, StringComparison.Ordinal);

            SqliteConnection.ClearAllPools();
            File.Copy(Path.Combine(directory, "older.db"), Path.Combine(directory, "xares.db"), overwrite: true);

            var (withoutExit, _, _) = Run("audit", "verify", "--data-dir", directory);
            Assert.Equal(0, withoutExit); // the default file is not where this broker wrote: nothing to compare with
            var (exit, _, error) = Run("audit", "verify", "--data-dir", directory, "--audit-checkpoint-file", checkpointFile);
            Assert.Equal(Xares.CommandLine.ExitCodes.CheckFailed, exit);
            Assert.Contains("older backup", error, StringComparison.Ordinal);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task RestVerify_ReportsTheCheckpointsItCompared()
    {
        await using var broker = await SocketBroker.StartAsync(o => o);
        await broker.CreateUserAsync("alice");
        await broker.Get<AuditCheckpointWriter>().WriteAsync();

        var result = await (await broker.Rest(broker.AdminKey).GetAsync("/api/v1/audit/verify")).JsonAsync(200);

        Assert.True(result.GetProperty("ok").GetBoolean());
        Assert.Equal(1, result.GetProperty("checkpointsChecked").GetInt32());
        Assert.Equal(1, result.GetProperty("firstSequence").GetInt64());
    }

    [Fact]
    public async Task Retention_PrunesOldRecords_VerifyStillPasses_AndAnEditAfterwardsIsCaught()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var broker = await SocketBroker.StartAsync(o => o with { Audit = new AuditSettings { RetentionDays = 1 } },
            services => services.AddSingleton<TimeProvider>(time));
        var admin = broker.Rest(broker.AdminKey);
        // The initial admin key expires in a day; this one outlives the clock jump.
        var key = (await (await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "ops", scopes = new[] { "admin" } })).JsonAsync(201)).GetProperty("key").GetString();
        admin = broker.Rest(key);
        await broker.CreateUserAsync("old-1");
        await broker.CreateUserAsync("old-2");
        await broker.Get<AuditCheckpointWriter>().WriteAsync();
        time.Advance(TimeSpan.FromDays(2));
        (await admin.PostAsJsonAsync("/api/v1/users", new { name = "recent" })).EnsureSuccessStatusCode();

        await broker.Get<AuditRetentionService>().PruneAsync();
        await broker.Get<AuditCheckpointWriter>().WriteAsync();

        var pruned = await (await admin.GetAsync("/api/v1/audit?action=audit.pruned")).JsonAsync(200);
        Assert.Contains("the chain continues at record", pruned.GetProperty("items")[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        var verified = await (await admin.GetAsync("/api/v1/audit/verify")).JsonAsync(200);
        Assert.True(verified.GetProperty("ok").GetBoolean(), verified.ToString());
        var first = verified.GetProperty("firstSequence").GetInt64();
        Assert.True(first > 1);
        var (exit, output, _) = Run("audit", "verify", "--data-dir", broker.DataDirectory);
        Assert.Equal(0, exit);
        Assert.Contains("pruned by retention", output, StringComparison.Ordinal);

        using (var connection = new SqliteConnection($"Data Source={Path.Combine(broker.DataDirectory, "xares.db")}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"UPDATE audit_log SET detail = 'edited' WHERE seq = {first}";
            command.ExecuteNonQuery();
        }
        var (brokenExit, _, error) = Run("audit", "verify", "--data-dir", broker.DataDirectory);
        Assert.Equal(Xares.CommandLine.ExitCodes.CheckFailed, brokenExit);
        Assert.Contains($"broken at record {first}", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ServeOptions_AuditValuesFromTheCommandLine_AreRead()
    {
        var parse = BrokerCommandLine.Create().Parse(["serve", "--audit-checkpoint-interval", "5", "--audit-checkpoint-file", "/tmp/x.jsonl",
            "--audit-retention-days", "30", "--audit-flag-lease-factor", "3.5", "--audit-flag-rejections", "7"]);

        var settings = AuditCommandLine.Read(parse);

        Assert.Empty(parse.Errors);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.CheckpointInterval);
        Assert.Equal("/tmp/x.jsonl", settings.CheckpointFile);
        Assert.Equal(30, settings.RetentionDays);
        Assert.Equal(3.5, settings.Flags.LeaseRateFactor);
        Assert.Equal(7, settings.Flags.Rejections);
        Assert.Equal(new AuditFlagThresholds().AuthFailures, settings.Flags.AuthFailures);
    }

    [Theory]
    [InlineData("--audit-retention-days", "0")]
    [InlineData("--audit-retention-days", "2000000000")] // the cutoff would fall before year 1
    [InlineData("--audit-checkpoint-interval", "2000000000")]
    public void ServeOptions_OutOfRange_IsRefusedClearly(string option, string value)
    {
        var parse = BrokerCommandLine.Create().Parse(["serve", option, value]);

        // Bad values are collected while reading, then stop the start together.
        var error = Assert.Throws<SettingsException>(() => BrokerCommandLine.Read(parse));
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = BrokerCommandLine.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }
}
