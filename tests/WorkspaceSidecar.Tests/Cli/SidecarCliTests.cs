using System.Text.Json;
using System.Text.Json.Nodes;
using Xares.CommandLine;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Cli;
using Xares.Sidecar.Tests.Fakes;

namespace Xares.Sidecar.Tests.Cli;

public sealed class SidecarCliTests
{
    [Fact]
    public async Task Serve_PlaintextBrokerOffLoopback_ExitsNonZeroWithClearError()
    {
        var (exit, _, error) = await CliRunner.RunAsync(["serve", "--broker", "http://broker.internal:7401", "--socket", "/tmp/never/used.sock"]);

        Assert.Equal(1, exit);
        Assert.StartsWith("xares: refusing plaintext broker URL http://broker.internal:7401", error);
        Assert.False(Directory.Exists("/tmp/never"));
    }

    [Fact]
    public async Task Serve_BrokerFromEnvironment_IsVetted()
    {
        var (exit, _, error) = await CliRunner.RunAsync(["serve", "--socket", "/tmp/never/used.sock"],
            environment: new Dictionary<string, string> { [ServeCommand.BrokerVariable] = "http://192.0.2.1:7401" });

        Assert.Equal(1, exit);
        Assert.Contains("refusing plaintext", error);
    }

    [Fact]
    public async Task Serve_NoBroker_ExitsNonZero()
    {
        var (exit, _, error) = await CliRunner.RunAsync(["serve", "--socket", "/tmp/never/used.sock"]);

        Assert.Equal(2, exit); // a missing setting is a usage error
        Assert.StartsWith("xares: no broker URL", error);
    }

    [Theory]
    [InlineData("XARES_LOG_LEVEL", "loud", "xares: XARES_LOG_LEVEL: 'loud' is not a log level")]
    [InlineData("XARES_BROKER_PLAINTEXT_MESH", "yes", "xares: XARES_BROKER_PLAINTEXT_MESH must be true or false")]
    [InlineData("XARES_BROKER_URL", "https://user@broker.example.test", "xares: broker URL must not contain user information")]
    public async Task Serve_WrongSetting_UsageError(string variable, string value, string message)
    {
        var environment = new Dictionary<string, string> { [ServeCommand.BrokerVariable] = "https://broker.example.test:7401", [variable] = value };

        var (exit, _, error) = await CliRunner.RunAsync(["serve", "--socket", "/tmp/never/used.sock"], environment: environment);

        Assert.Equal(2, exit);
        Assert.StartsWith(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_UntilCancelled_ServesSocketFromEnvironmentThenCleansUp()
    {
        await using var broker = await FakeBroker.StartAsync();
        var root = Directory.CreateTempSubdirectory("xares-cli-");
        try
        {
            var socket = Path.Combine(root.FullName, "run", "sidecar.sock");
            var tokenFile = Path.Combine(root.FullName, "token");
            await File.WriteAllTextAsync(tokenFile, broker.State.AddBootstrapToken());
            var environment = new Dictionary<string, string>
            {
                [ServeCommand.BrokerVariable] = broker.Url.ToString(),
                [ServeCommand.BootstrapTokenFileVariable] = tokenFile,
                [SidecarCli.SocketVariable] = socket,
            };
            using var stop = new CancellationTokenSource();
            var serve = CliRunner.RunAsync(["serve"], environment: environment, cancellationToken: stop.Token);
            await broker.State.WaitForAsync(s => s.WatchOpens.Count > 0);

            // The watch stream is open; the sidecar marks itself connected right after (exit 3 until then).
            var (exit, output, _) = await CliRunner.RunAsync(["status"], environment: environment);
            for (var tries = 0; exit == ExitCodes.NotConnected && tries < 100; tries++)
            {
                await Task.Delay(100);
                (exit, output, _) = await CliRunner.RunAsync(["status"], environment: environment);
            }
            Assert.Equal(ExitCodes.Success, exit);
            Assert.Contains("session:             yes", output);
            Assert.False(File.Exists(tokenFile));
            var (jsonExit, json, _) = await CliRunner.RunAsync(["status", "--json"], environment: environment);
            Assert.Equal(ExitCodes.Success, jsonExit);
            using (var report = JsonDocument.Parse(json))
            {
                Assert.True(report.RootElement.GetProperty("hasSession").GetBoolean());
                Assert.True(report.RootElement.GetProperty("connected").GetBoolean());
                Assert.False(string.IsNullOrEmpty(report.RootElement.GetProperty("workspaceId").GetString()));
            }

            await stop.CancelAsync();
            var result = await serve.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(0, result.Exit);
            Assert.False(File.Exists(socket));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Status_SidecarNotRunning_ExitsNonZero()
    {
        var (exit, output, error) = await CliRunner.RunAsync(["status", "--socket", "/tmp/xares-nothing-here/sidecar.sock"]);

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith("xares: the sidecar is not reachable at /tmp/xares-nothing-here/sidecar.sock", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("xst_not_a_bootstrap_token\n")]
    public async Task Bootstrap_NoBootstrapTokenOnStdin_ExitsNonZeroWithoutConnecting(string stdin)
    {
        var (exit, _, error) = await CliRunner.RunAsync(["bootstrap", "--socket", "/tmp/xares-nothing-here/sidecar.sock"], stdin);

        Assert.Equal(1, exit);
        Assert.Contains("bootstrap token", error);
        Assert.DoesNotContain("xst_not", error);
    }

    [Fact]
    public async Task Bootstrap_SocketInOpenDirectory_RefusesToHandOverToken()
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var sidecar = SidecarHarness.Start(broker, bootstrap: false);
        var directory = Path.GetDirectoryName(sidecar.SocketPath)!;
        File.SetUnixFileMode(directory, File.GetUnixFileMode(directory) | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);

        var (exit, _, error) = await CliRunner.RunAsync(["bootstrap", "--socket", sidecar.SocketPath], broker.State.AddBootstrapToken());

        Assert.Equal(1, exit);
        Assert.Contains("writable by group or others", error);
        Assert.Equal(0, broker.State.OpenSessionCalls);
    }

    [Theory]
    [InlineData(true, true, ExitCodes.Success)]
    [InlineData(false, true, ExitCodes.NotConnected)]
    [InlineData(true, false, ExitCodes.NoSession)]
    [InlineData(false, false, ExitCodes.NoSession)]
    public void StatusExitCode_State_FromTheTable(bool connected, bool hasSession, int expected) =>
        Assert.Equal(expected, StatusCommand.ExitCode(new StatusResponse { Connected = connected, HasSession = hasSession }));

    [Fact]
    public void StatusJson_EveryField_DocumentedNamesAndNulls()
    {
        var report = StatusCommand.Report(new StatusResponse
        {
            BrokerUrl = "https://broker.example/",
            Connected = false,
            HasSession = true,
            TokenExpiresAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.Parse("2030-01-02T03:04:05Z")),
            CachedLeases = 3,
            RevocationSequence = 42,
        });

        var json = JsonSerializer.Serialize(report, CliJson.Default.StatusReport);

        Assert.Equal(
            """{"brokerUrl":"https://broker.example/","connected":false,"hasSession":true,"workspaceId":null,"sessionExpiresAt":null,"tokenExpiresAt":"2030-01-02T03:04:05Z","cachedLeases":3,"revocationSequence":42,"lastError":null}""",
            JsonNode.Parse(json)!.ToJsonString());
    }

    [Fact]
    public void StatusFormat_EveryField_OneLabelledLine()
    {
        var text = StatusCommand.Format(new StatusResponse
        {
            BrokerUrl = "https://broker.example/",
            Connected = false,
            HasSession = true,
            WorkspaceId = "ws_1",
            TokenExpiresAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.Parse("2030-01-02T03:04:05Z")),
            CachedLeases = 3,
            RevocationSequence = 42,
            LastError = "broker unavailable: Connection refused",
        });

        Assert.Equal(
            """
            broker:              https://broker.example/
            connected:           no
            session:             yes
            workspace:           ws_1
            session expires:     -
            token expires:       2030-01-02T03:04:05Z
            cached leases:       3
            revocation sequence: 42
            last error:          broker unavailable: Connection refused

            """,
            text);
    }
}
