using System.CommandLine;
using System.Text.Json;
using Xares.Broker.Hosting;
using Xares.Broker.Tests.Support;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Vault;

/// <summary>`xares-broker keys status|rotate|prune` as an operator runs them against a serving broker's data dir.</summary>
public sealed class KeysCommandLineTests
{
    [Fact]
    public async Task Keys_RotateStatusPrune_ReportProgressUsageAndRefusals()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        for (var i = 0; i < 3; i++)
        {
            await host.CreateGitCredentialAsync(user, $"https://git{i}.example.test", "alice", $"secret-cli-{i}-abcdef");
        }

        var rotate = Run("keys", "rotate", "--data-dir", host.DataDirectory);
        Assert.Equal(0, rotate.Exit);
        Assert.Contains("Key-encryption key version 2 committed and current", rotate.Output);
        Assert.Contains("] 3/3 data keys re-wrapped (100%)", rotate.Output);
        Assert.Contains("Final pass: waiting", rotate.Output);
        Assert.Contains("Rotation complete: version 2 current, 3 data keys re-wrapped.", rotate.Output);

        var status = Run("keys", "status", "--data-dir", host.DataDirectory).Output;
        Assert.Matches(@"version 1: 0 credentials, \d+ audit records, 0 audit head, 0 audit chain base, 0 GitHub App keys, 0 minted tokens, 0 OAuth client secrets, 0 OAuth tokens, 0 OAuth device codes, 0 OAuth revocations, 0 stored idempotent answers, 0 web UI data protection keys\n", status.ReplaceLineEndings("\n"));
        Assert.Matches(@"version 2: 3 credentials, \d+ audit records, 1 audit head, 0 audit chain base, 0 GitHub App keys, 0 minted tokens, 0 OAuth client secrets, 0 OAuth tokens, 0 OAuth device codes, 0 OAuth revocations, 0 stored idempotent answers, 0 web UI data protection keys \(current\)\n", status.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("prunable", status); // version 1 still verifies the audit records made under it

        var prune = Run("keys", "prune", "--data-dir", host.DataDirectory);
        Assert.Equal((0, "Nothing to prune; versions 1, 2 are in use or current."), (prune.Exit, prune.Output.Trim()));

        using var database = new Xares.Broker.Storage.Database($"Data Source={host.DatabasePath}");
        using (KeyMaintenanceLock.Acquire(database, "keys rotate", TimeProvider.System))
        {
            var refused = Run("keys", "prune", "--data-dir", host.DataDirectory);
            Assert.Equal(1, refused.Exit);
            Assert.StartsWith($"xares: Another key operation is running: keys rotate (pid {Environment.ProcessId}", refused.Error);
            Assert.Contains("Running now: keys rotate", Run("keys", "status", "--data-dir", host.DataDirectory).Output);
        }
    }

    [Fact]
    public async Task KeysStatus_Json_VersionsWithEveryUsageColumn()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.CreateGitCredentialAsync(user, "https://git.example.test", "alice", "secret-cli-json-abcdef");
        Assert.Equal(0, Run("keys", "rotate", "--data-dir", host.DataDirectory).Exit);

        var (exit, output, _) = Run("keys", "status", "--json", "--data-dir", host.DataDirectory);

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        var versions = json.RootElement.GetProperty("versions").EnumerateArray().ToList();
        Assert.Equal([1, 2], versions.Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal([false, true], versions.Select(v => v.GetProperty("current").GetBoolean()));
        Assert.False(versions[1].GetProperty("prunable").GetBoolean());
        var usage = versions[1].GetProperty("usage").EnumerateArray().ToList();
        Assert.Equal(KeyringUsage.References.Select(r => (r.Table, r.Column)), usage.Select(u => (u.GetProperty("table").GetString()!, u.GetProperty("column").GetString()!)));
        Assert.Equal(1, usage.Single(u => u.GetProperty("table").GetString() == "credentials").GetProperty("count").GetInt64());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("unfinishedRotation").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("runningOperation").ValueKind);
    }

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = BrokerCommandLine.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }
}
