using System.Security.Cryptography;
using System.Text.Json;
using Xares.EndToEnd.Tests.Infrastructure;
using Xares.Tests.Shared;

namespace Xares.EndToEnd.Tests.Operations;

/// <summary>
/// The published programs as scripts meet them (docs/cli.md): exit codes, one-line usage errors,
/// --help/--version, --json shapes, and completion scripts in a real bash.
/// </summary>
public sealed class CommandLineTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    [Theory]
    [InlineData("xares-sidecar", new[] { "bogus" }, "xares: unknown command 'bogus'", "xares-sidecar")]
    [InlineData("xares-sidecar", new[] { "serve", "--socket-group", "abc" }, "xares: --socket-group: expected a whole number (0 or more), got 'abc'", "xares-sidecar serve")]
    [InlineData("xares-sidecar", new[] { "status", "--jsn" }, "xares: status: unknown option '--jsn'; did you mean '--json'?", "xares-sidecar status")]
    [InlineData("xares-broker", new[] { "keys", "stats" }, "xares: keys: unknown command 'stats'; did you mean 'status'?", "xares-broker keys")]
    [InlineData("xares-broker", new[] { "serve", "--lease-ttl-seconds", "abc" }, "xares: --lease-ttl-seconds: expected a whole number, got 'abc'", "xares-broker serve")]
    [InlineData("git-credential-xares", new[] { "--bogus" }, "xares: unknown option '--bogus'", "git-credential-xares")]
    [InlineData("git-credential-xares", new string[0], "xares: an operation is required: get, store or erase", "git-credential-xares")]
    public async Task BadCommandLine_OneLineAndHint_Exit2(string program, string[] args, string line, string helpCommand)
    {
        var result = await RunAsync(program, args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.Stdout);
        Assert.Equal($"{line}\nRun '{helpCommand} --help' for usage.\n", result.Stderr);
    }

    // Values that parse but cannot be used (out of range, not a log level, a malformed URL) are
    // usage errors too: exit 2 before anything starts, the setting named.
    [Theory]
    [InlineData("xares-broker", new[] { "serve", "--lease-ttl-seconds", "0" }, "", "", "--lease-ttl-seconds (XARES_LEASE_TTL_SECONDS) must be a number from 1 to")]
    [InlineData("xares-broker", new[] { "serve" }, "XARES_LOG_LEVEL", "loud", "'loud' is not a log level")]
    [InlineData("xares-sidecar", new[] { "serve", "--socket", "/tmp/xares-never/used.sock" }, "XARES_BROKER_URL", "not a url", "broker URL 'not a url' is not an absolute http(s) URL")]
    [InlineData("xares-sidecar", new[] { "serve", "--socket", "/tmp/xares-never/used.sock", "--broker", "https://broker.example:7401" }, "XARES_LOG_LEVEL", "loud", "XARES_LOG_LEVEL: 'loud' is not a log level")]
    public async Task WrongSetting_NamedOnStderr_Exit2(string program, string[] args, string variable, string value, string message)
    {
        var result = await RunAsync(program, args, variable.Length > 0 ? new Dictionary<string, string> { [variable] = value } : null);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.Stdout);
        Assert.StartsWith("xares: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xares-sidecar", "--help")]
    [InlineData("xares-sidecar", "--version")]
    [InlineData("xares-broker", "--help")]
    [InlineData("xares-broker", "--version")]
    [InlineData("git-credential-xares", "--help")]
    [InlineData("git-credential-xares", "--version")]
    public async Task HelpAndVersion_Exit0(string program, string option)
    {
        var result = await RunAsync(program, [option]);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal("", result.Stderr);
        Assert.Matches(option == "--version" ? @"^\d+\.\d+\.\d+\S*\n$" : "Usage:", result.Stdout);
    }

    [Fact]
    public async Task SidecarStatus_ExitCodeAndJsonFollowTheState()
    {
        await fixture.EnsureBrokerRunningAsync();
        await using var workspace = await XaresWorkspace.StartAsync(fixture, await fixture.CreateUserAsync(), install: false);
        var connected = await workspace.Sidecar.StatusJsonAsync();
        Assert.True(connected.ExitCode == 0, connected.ToString());
        using (var json = JsonDocument.Parse(connected.Stdout))
        {
            Assert.Equal(workspace.Id, json.RootElement.GetProperty("workspaceId").GetString());
            Assert.True(json.RootElement.GetProperty("hasSession").GetBoolean());
            Assert.Equal(JsonValueKind.Number, json.RootElement.GetProperty("cachedLeases").ValueKind);
        }

        var unknownToken = "xbt_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        await using (var waiting = await SidecarProcess.StartAsync(fixture.Directory, fixture.Broker.GrpcUrl, unknownToken, fixture.NextName("nosession"), waitUntilConnected: false))
        {
            CommandResult? noSession = null;
            Assert.True(await Poll.UntilAsync(async () => (noSession = await waiting.StatusJsonAsync()).ExitCode == 4, TimeSpan.FromSeconds(20)), noSession?.ToString());
            using var json = JsonDocument.Parse(noSession!.Stdout);
            Assert.False(json.RootElement.GetProperty("hasSession").GetBoolean());
        }

        try
        {
            await fixture.Broker.KillAsync();
            CommandResult? notConnected = null;
            Assert.True(await Poll.UntilAsync(async () => (notConnected = await workspace.Sidecar.StatusJsonAsync()).ExitCode == 3, TimeSpan.FromSeconds(30)), notConnected?.ToString());
            using var json = JsonDocument.Parse(notConnected!.Stdout);
            Assert.False(json.RootElement.GetProperty("connected").GetBoolean());
            Assert.True(json.RootElement.GetProperty("hasSession").GetBoolean());
        }
        finally
        {
            await fixture.Broker.RestartAsync();
        }
    }

    [Fact]
    public async Task BrokerReadCommands_Json_DocumentedShapes()
    {
        await fixture.EnsureBrokerRunningAsync();
        await fixture.CreateUserAsync();

        var keys = await RunAsync("xares-broker", ["keys", "status", "--json", "--data-dir", fixture.Broker.DataDirectory]);
        Assert.True(keys.Succeeded, keys.ToString());
        using (var json = JsonDocument.Parse(keys.Stdout))
        {
            var current = Assert.Single(json.RootElement.GetProperty("versions").EnumerateArray(), v => v.GetProperty("current").GetBoolean());
            Assert.Contains(current.GetProperty("usage").EnumerateArray(), u => u.GetProperty("table").GetString() == "audit_log" && u.GetProperty("count").GetInt64() > 0);
        }

        var verify = await RunAsync("xares-broker", ["audit", "verify", "--json", "--data-dir", fixture.Broker.DataDirectory]);
        Assert.True(verify.Succeeded, verify.ToString());
        using (var json = JsonDocument.Parse(verify.Stdout))
        {
            Assert.True(json.RootElement.GetProperty("ok").GetBoolean());
            Assert.True(json.RootElement.GetProperty("verifiedRecords").GetInt64() > 0);
        }
    }

    [Theory]
    [InlineData("xares-sidecar", new[] { "st" }, new[] { "status" })]
    [InlineData("xares-sidecar", new[] { "run", "--mode", "" }, new[] { "inject", "proxy" })]
    [InlineData("xares-broker", new[] { "keys", "st" }, new[] { "status" })]
    [InlineData("xares-broker", new[] { "audit", "verify", "--j" }, new[] { "--json" })]
    public async Task Completion_Bash_CompletesThePublishedCommandTree(string program, string[] words, string[] expected)
    {
        var script = await RunAsync(program, ["completion", "bash"]);
        Assert.True(script.Succeeded, script.ToString());
        var file = Path.Combine(fixture.Directory.Sub("completion"), $"{program}.bash");
        await File.WriteAllTextAsync(file, script.Stdout);

        Assert.Equal(expected, await ShellCompletion.BashAsync(file, program, words));
    }

    private Task<CommandResult> RunAsync(string program, string[] args, IReadOnlyDictionary<string, string>? extraEnvironment = null)
    {
        var environment = ProcessRunner.BaseEnvironment(fixture.Directory.Sub("cli-home"));
        foreach (var (name, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }
        var log = Path.Combine(fixture.Directory.Logs, "command-line.log");
        return program switch
        {
            "xares-broker" => ProcessRunner.RunAsync(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", [Artifacts.BrokerDll, .. args], environment, log,
                timeout: TimeSpan.FromSeconds(90)),
            "xares-sidecar" => ProcessRunner.RunAsync(Artifacts.Sidecar, args, environment, log),
            _ => ProcessRunner.RunAsync(Artifacts.GitHelper, args, environment, log),
        };
    }
}
