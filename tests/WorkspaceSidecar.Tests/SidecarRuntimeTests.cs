using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Cli;
using Xares.Sidecar.Git;
using Xares.Sidecar.Tests.Fakes;

namespace Xares.Sidecar.Tests;

public sealed class SidecarRuntimeTests
{
    [Fact]
    public async Task Start_BootstrapTokenFile_OpensSessionAndDeletesFile()
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var sidecar = SidecarHarness.Start(broker);

        Assert.False(File.Exists(sidecar.TokenFile));
        await sidecar.WaitConnectedAsync();
        Assert.Equal(1, broker.State.OpenSessionCalls);
        Assert.Equal(broker.State.WorkspaceId, sidecar.Runtime.Session.Current!.Snapshot.WorkspaceId);
    }

    [Fact]
    public async Task Start_BrokerNotUpYet_KeepsRetryingTheFileTokenUntilItIs()
    {
        var state = new FakeBrokerState();
        await using var broker = await FakeBroker.StartAsync(state);
        await broker.StopAsync();
        await using var sidecar = SidecarHarness.Start(broker);
        Assert.False(File.Exists(sidecar.TokenFile));

        await broker.RestartAsync();

        await sidecar.WaitConnectedAsync();
    }

    [Fact]
    public async Task GitGet_BeforeBootstrap_AnswersNotBootstrapped()
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var sidecar = SidecarHarness.Start(broker, bootstrap: false);

        var response = await sidecar.GetAsync("github.com");

        Assert.Equal(Errors.NotBootstrappedCode, response.Error.Code);
    }

    [Fact]
    public async Task BootstrapCommand_TokenOnStdin_OpensSession()
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var sidecar = SidecarHarness.Start(broker, bootstrap: false);
        var token = broker.State.AddBootstrapToken();
        var (exit, output, error) = await CliRunner.RunAsync(["bootstrap", "--socket", sidecar.SocketPath], stdin: $"  {token}  \n");

        Assert.Equal(0, exit);
        Assert.Contains("bootstrap accepted", output);
        Assert.Equal("", error);
        await sidecar.WaitConnectedAsync();
        Assert.DoesNotContain(token, sidecar.Logs.AllText);
    }

    [Fact]
    public async Task BootstrapCommand_UsedToken_ExitsNonZeroAndKeepsLiveSession()
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        var session = sidecar.Runtime.Session.Current;

        var (exit, _, error) = await CliRunner.RunAsync(["bootstrap", "--socket", sidecar.SocketPath], stdin: "xbt_never_issued\n");

        Assert.NotEqual(0, exit);
        Assert.StartsWith("xares: bootstrap refused", error);
        Assert.Same(session, sidecar.Runtime.Session.Current);
    }

    [Fact]
    public async Task Bootstrap_WhileSessionLive_ReplacesSessionAndDropsLeases()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddCredential("github.com", "cred_1", "alice", "ghp_first");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        await sidecar.GetAsync("github.com");
        var first = sidecar.Runtime.Session.Current!;

        var response = await sidecar.SendAsync(new SidecarRequest { Bootstrap = new BootstrapRequest { BootstrapToken = broker.State.AddBootstrapToken() } });

        Assert.True(response.Bootstrap.Accepted, response.Bootstrap.Message);
        Assert.NotSame(first, sidecar.Runtime.Session.Current);
        Assert.True(first.IsEnded);
        Assert.Equal(0, sidecar.Runtime.Cache.Count);
    }

    [Fact]
    public async Task Status_AfterLeasesIssued_ShowsStateButNoSecret()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddCredential("github.com", "cred_1", "alice", "ghp_topsecret");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        await sidecar.GetAsync("github.com");

        var (exit, output, _) = await CliRunner.RunAsync(["status", "--socket", sidecar.SocketPath]);

        Assert.Equal(0, exit);
        Assert.Contains("connected:           yes", output);
        Assert.Contains($"workspace:           {broker.State.WorkspaceId}", output);
        Assert.Contains("cached leases:       1", output);
        Assert.Contains(broker.Url.ToString(), output);
        Assert.DoesNotContain("ghp_topsecret", output);
        Assert.DoesNotContain(broker.State.CurrentToken!, output);
        Assert.DoesNotContain("xst_", output);
        Assert.DoesNotContain("ghp_topsecret", sidecar.Logs.AllText);
        Assert.DoesNotContain("xst_", sidecar.Logs.AllText);
    }

    [Fact]
    public async Task Dispose_RemovesSocketFile()
    {
        await using var broker = await FakeBroker.StartAsync();
        var sidecar = SidecarHarness.Start(broker, bootstrap: false);
        var path = sidecar.SocketPath;
        Assert.True(File.Exists(path));

        await sidecar.Runtime.DisposeAsync();

        Assert.False(File.Exists(path));
        sidecar.Root.Delete(recursive: true);
    }
}

/// <summary>Runs the CLI in-process with string I/O and without process hardening.</summary>
internal static class CliRunner
{
    public static async Task<(int Exit, string Output, string Error)> RunAsync(
        string[] args, string stdin = "", IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellationToken = default)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var cli = new SidecarCli(new CliConsole(new StringReader(stdin), output, error), name => environment?.GetValueOrDefault(name), hardenProcess: false);
        var exit = await cli.RunAsync(args, cancellationToken);
        return (exit, output.ToString(), error.ToString());
    }
}
