using System.Diagnostics;
using System.Text.Json;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Docker;

/// <summary>The Docker watcher's workspace lifecycle (README, Docker) against a real Docker engine.</summary>
[Collection(DockerEngineCollection.Name)]
public sealed class DockerWatcherTests(DockerFixture fixture) : IClassFixture<DockerFixture>
{
    // These tests check that a session starts and a removal revokes, not how fast: timing is for
    // benchmarks (bench/container-start.sh measures start → working helper), so the bound leaves
    // room for a loaded machine.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task LabelledContainer_Started_BootstrapsAndGitWorksWithNoTokenOnDisk()
    {
        var (userId, secret, url) = await fixture.CreateGitUserAsync();
        var workspaceId = await fixture.CreateWorkspaceAsync(userId);

        var clock = Stopwatch.StartNew();
        var container = await fixture.RunContainerAsync(workspaceId);
        Assert.True(await Poll.UntilAsync(async () => (await fixture.SessionsAsync(workspaceId)).Count > 0, Bound, TimeSpan.FromMilliseconds(25)),
            $"no session after docker run (waited {clock.Elapsed.TotalMilliseconds:0} ms)\n{fixture.Broker.LogTail()}");

        var workspace = await fixture.WorkspaceAsync(workspaceId);
        Assert.Equal(container, workspace.GetProperty("containerId").GetString());
        Assert.Equal("active", workspace.GetProperty("status").GetString());
        await WaitForGitConfigAsync(container);

        await fixture.ExecAsync(container, "git", "clone", url, "/tmp/repo").ShouldSucceedAsync();
        await fixture.ExecAsync(container, "sh", "-c",
            "cd /tmp/repo && echo hi > one.txt && git add one.txt && git -c user.name=t -c user.email=t@example.test commit -qm one && git push -q origin HEAD:main")
            .ShouldSucceedAsync();
        Assert.Contains(fixture.GitServer.AuthAttempts, a => a.Succeeded);

        // Nothing secret in the container's metadata, nor in any file of its writable layer.
        var inspect = await fixture.Engine.DockerOkAsync("inspect", container);
        foreach (var needle in new[] { secret, "xbt_", "xst_" })
        {
            Assert.DoesNotContain(needle, inspect, StringComparison.Ordinal);
        }
        var upper = JsonDocument.Parse(inspect).RootElement[0].GetProperty("GraphDriver").GetProperty("Data");
        if (upper.TryGetProperty("UpperDir", out var upperDir))
        {
            var hits = new[] { secret, "xbt_", "xst_" }.SelectMany(n => SecretScanner.FindFilesContaining(n, [upperDir.GetString()!])).ToList();
            Assert.True(hits.Count == 0, "found in the writable layer: " + string.Join(", ", hits));
        }
        var diff = await fixture.Engine.DockerOkAsync("diff", container);
        Assert.DoesNotContain("bootstrap-token", diff, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SidecarNotYetListening_TokenLeftInTmpfsFile_SidecarReadsAndDeletesIt()
    {
        var (userId, _, _) = await fixture.CreateGitUserAsync();
        var workspaceId = await fixture.CreateWorkspaceAsync(userId);

        var container = await fixture.RunContainerAsync(workspaceId, sidecarDelaySeconds: 1);

        await WaitForSessionAsync(workspaceId, TimeSpan.FromSeconds(6));
        await fixture.ExecAsync(container, "test", "!", "-e", "/run/xares/bootstrap-token").ShouldSucceedAsync();
        Assert.Contains(await fixture.AuditAsync("docker.bootstrap"), a => a.GetProperty("workspaceId").GetString() == workspaceId
            && a.GetProperty("outcome").GetString() == "success"
            && a.GetProperty("detail").GetString()!.Contains("(attempt 1)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DockerRmF_BoundContainer_RevokesWorkspace()
    {
        var (userId, _, _) = await fixture.CreateGitUserAsync();
        var workspaceId = await fixture.CreateWorkspaceAsync(userId);
        var container = await fixture.RunContainerAsync(workspaceId);
        await WaitForSessionAsync(workspaceId);

        await fixture.Engine.DockerOkAsync("rm", "-f", container);
        var clock = Stopwatch.StartNew();

        Assert.True(await Poll.UntilAsync(async () => (await fixture.WorkspaceAsync(workspaceId)).GetProperty("status").GetString() == "revoked",
            Bound, TimeSpan.FromMilliseconds(25)), $"not revoked ({clock.Elapsed.TotalMilliseconds:0} ms)\n{fixture.Broker.LogTail()}");
        Assert.Empty(await fixture.SessionsAsync(workspaceId));
    }

    [Fact]
    public async Task DockerRestart_BoundContainer_EndsOldSessionAndReBootstraps()
    {
        var (userId, _, _) = await fixture.CreateGitUserAsync();
        var workspaceId = await fixture.CreateWorkspaceAsync(userId);
        var container = await fixture.RunContainerAsync(workspaceId);
        var first = await WaitForSessionAsync(workspaceId);

        await fixture.Engine.DockerOkAsync("restart", "-t", "1", container);

        Assert.True(await Poll.UntilAsync(async () => await fixture.SessionsAsync(workspaceId) is [var s] && s != first, TimeSpan.FromSeconds(5)),
            "no new session after docker restart\n" + fixture.Broker.LogTail());
        Assert.Contains(await fixture.AuditAsync("docker.stop"), a => a.GetProperty("workspaceId").GetString() == workspaceId);
        await fixture.AssertSessionAsync(container, held: true);
    }

    [Fact]
    public async Task UnregisteredIdAndSecondContainer_GetNoTokenAndAreAudited()
    {
        var (userId, _, _) = await fixture.CreateGitUserAsync();
        var workspaceId = await fixture.CreateWorkspaceAsync(userId);
        var first = await fixture.RunContainerAsync(workspaceId);
        var session = await WaitForSessionAsync(workspaceId);

        var second = await fixture.RunContainerAsync(workspaceId, bootstrapWaitSeconds: 1);
        var stranger = await fixture.RunContainerAsync("ws_" + fixture.NextName("unregistered"), bootstrapWaitSeconds: 1);

        Assert.True(await Poll.UntilAsync(async () =>
        {
            var denied = (await fixture.AuditAsync("docker.bind")).Where(a => a.GetProperty("outcome").GetString() == "denied")
                .Select(a => a.GetProperty("detail").GetString() ?? "").ToList();
            return denied.Any(d => d.Contains(second[..12], StringComparison.Ordinal)) && denied.Any(d => d.Contains(stranger[..12], StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(5)), "refusals not audited\n" + fixture.Broker.LogTail());

        foreach (var refused in new[] { second, stranger })
        {
            await fixture.AssertSessionAsync(refused, held: false);
            await fixture.ExecAsync(refused, "test", "!", "-e", "/run/xares/bootstrap-token").ShouldSucceedAsync();
        }
        Assert.Equal([session], await fixture.SessionsAsync(workspaceId));
        Assert.Equal(first, (await fixture.WorkspaceAsync(workspaceId)).GetProperty("containerId").GetString());
    }

    [Fact]
    public async Task BrokerRestart_WhileContainersChange_Reconciles()
    {
        var (userId, _, _) = await fixture.CreateGitUserAsync();
        var kept = await fixture.CreateWorkspaceAsync(userId);
        var restarted = await fixture.CreateWorkspaceAsync(userId);
        var removed = await fixture.CreateWorkspaceAsync(userId);
        var late = await fixture.CreateWorkspaceAsync(userId);
        var keptContainer = await fixture.RunContainerAsync(kept);
        var restartedContainer = await fixture.RunContainerAsync(restarted);
        var removedContainer = await fixture.RunContainerAsync(removed);
        var keptSession = await WaitForSessionAsync(kept);
        var oldRestartedSession = await WaitForSessionAsync(restarted);
        await WaitForSessionAsync(removed);

        await fixture.Broker.KillAsync();
        await fixture.Engine.DockerOkAsync("restart", "-t", "1", restartedContainer);
        await fixture.Engine.DockerOkAsync("rm", "-f", removedContainer);
        await fixture.RunContainerAsync(late);
        await fixture.Broker.RestartAsync();

        Assert.True(await Poll.UntilAsync(async () => (await fixture.WorkspaceAsync(removed)).GetProperty("status").GetString() == "revoked",
            TimeSpan.FromSeconds(5)), "removed container's workspace not revoked\n" + fixture.Broker.LogTail());
        Assert.True(await Poll.UntilAsync(async () => await fixture.SessionsAsync(restarted) is [var s] && s != oldRestartedSession,
            TimeSpan.FromSeconds(5)), "restarted container not re-bootstrapped\n" + fixture.Broker.LogTail());
        Assert.Equal([keptSession], await fixture.SessionsAsync(kept));
        await fixture.AssertSessionAsync(keptContainer, held: true);
        await WaitForSessionAsync(late);
    }

    [Fact]
    public async Task EngineRestart_WatcherRecoversAndBootstrapsAgain()
    {
        if (!fixture.Engine.Owned)
        {
            Assert.Fail("XARES_TEST_DOCKER points at an engine these tests may not restart; unset it to use scripts/setup-docker.sh");
        }
        var (userId, _, _) = await fixture.CreateGitUserAsync();
        var before = await fixture.CreateWorkspaceAsync(userId);
        var container = await fixture.RunContainerAsync(before);
        await WaitForSessionAsync(before);

        await fixture.Engine.RestartAsync();

        // The engine stopped the container with it: reconciling on reconnect ends its session.
        Assert.True(await Poll.UntilAsync(async () => (await fixture.SessionsAsync(before)).Count == 0, TimeSpan.FromSeconds(15)),
            "session of the container the engine stopped was not ended\n" + fixture.Broker.LogTail());
        var after = await fixture.CreateWorkspaceAsync(userId);
        await fixture.RunContainerAsync(after);
        await WaitForSessionAsync(after, TimeSpan.FromSeconds(10));
        await fixture.Engine.DockerOkAsync("start", container);
        await WaitForSessionAsync(before, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SignedClaimLabel_NoRegistrationFirst_WorkspaceCreatedBootstrappedAndTheLabelCannotBeReused()
    {
        var (userId, _, url) = await fixture.CreateGitUserAsync();
        var (label, workspaceId) = await fixture.SignClaimAsync(userId, fixture.NextName("claimed"));
        var (running, refused) = (await MetricAsync(fixture.Broker, Bootstraps("running")), await MetricAsync(fixture.Broker, Bootstraps("refused")));

        var container = await fixture.RunContainerAsync(label, labelName: "xares.claim");

        Assert.True(await Poll.UntilAsync(async () => (await fixture.Admin.ListWorkspacesAsync()).Any(w => w.GetProperty("id").GetString() == workspaceId),
            TimeSpan.FromSeconds(5)), $"the claim did not create {workspaceId}\n{fixture.Broker.LogTail()}");
        await WaitForSessionAsync(workspaceId);
        Assert.Equal(container, (await fixture.WorkspaceAsync(workspaceId)).GetProperty("containerId").GetString());
        await WaitForGitConfigAsync(container);
        await fixture.ExecAsync(container, "git", "clone", url, "/tmp/repo").ShouldSucceedAsync();

        var copy = await fixture.RunContainerAsync(label, bootstrapWaitSeconds: 1, labelName: "xares.claim");
        Assert.True(await Poll.UntilAsync(async () => (await fixture.AuditAsync("docker.bind")).Any(a => a.GetProperty("outcome").GetString() == "denied"
            && (a.GetProperty("detail").GetString() ?? "").Contains(copy[..12], StringComparison.Ordinal)), TimeSpan.FromSeconds(5)),
            "the copied claim label was not refused\n" + fixture.Broker.LogTail());
        Assert.Equal(container, (await fixture.WorkspaceAsync(workspaceId)).GetProperty("containerId").GetString());
        Assert.True(await MetricAsync(fixture.Broker, Bootstraps("running")) >= running + 1);
        Assert.True(await Poll.UntilAsync(async () => await MetricAsync(fixture.Broker, Bootstraps("refused")) >= refused + 1, TimeSpan.FromSeconds(5)));
    }

    private static string Bootstraps(string outcome) => $"xares_docker_bootstraps_total{{engine=\"default\",outcome=\"{outcome}\"}}";

    [Fact]
    public async Task EngineSilentBehindASocketProxy_WatcherNoticesReconnectsAndCatchesUp()
    {
        // The deployment the README recommends: the broker reaches the engine through a socket
        // proxy. When the engine goes away behind it, the proxy can hold the event stream open and
        // silent, so no end of stream ever tells the watcher.
        await using var proxy = StallingSocketProxy.Start(Path.Combine(fixture.Directory.Sub("proxy"), "docker.sock"), fixture.Engine.Endpoint);
        await using var broker = await BrokerProcess.StartAsync(fixture.Directory, new BrokerLaunch("broker-proxied", ["--docker", proxy.Endpoint]));
        using var admin = broker.CreateAdminClient();
        var userId = await admin.CreateUserAsync(fixture.NextName("user"));
        var before = (await admin.CreateWorkspaceAsync(userId, fixture.NextName("w"))).Id;
        await fixture.RunContainerAsync(before, broker: broker);
        await WaitForSessionAsync(before, TimeSpan.FromSeconds(10), broker, admin);

        Assert.Equal(1, await WatcherConnectedAsync(broker));

        proxy.Stall();
        Assert.True(await Poll.UntilAsync(() => Task.FromResult(File.ReadAllText(broker.LogFile).Contains("stopped answering", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(15)), "the watcher did not notice the silent engine\n" + broker.LogTail());
        Assert.Equal(0, await WatcherConnectedAsync(broker));
        proxy.Resume();

        var after = (await admin.CreateWorkspaceAsync(userId, fixture.NextName("w"))).Id;
        await fixture.RunContainerAsync(after, broker: broker);
        await WaitForSessionAsync(after, TimeSpan.FromSeconds(15), broker, admin);
        Assert.Equal(1, await WatcherConnectedAsync(broker));
    }

    internal static async Task<int> WatcherConnectedAsync(BrokerProcess broker, string engine = "default") =>
        (int)await MetricAsync(broker, $"xares_docker_watcher_connected{{engine=\"{engine}\"}}");

    /// <summary>A sample of the broker's /metrics, e.g. <c>xares_docker_bootstraps_total{engine="default",outcome="running"}</c>; 0 when absent.</summary>
    private static async Task<double> MetricAsync(BrokerProcess broker, string sample)
    {
        using var client = new HttpClient();
        var line = (await client.GetStringAsync($"{broker.RestUrl}/metrics")).Split('\n').SingleOrDefault(l => l.StartsWith(sample + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(sample.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<string> WaitForSessionAsync(string workspaceId, TimeSpan? timeout = null, BrokerProcess? broker = null, AdminClient? admin = null)
    {
        IReadOnlyList<string> sessions = [];
        Assert.True(await Poll.UntilAsync(async () => (sessions = await fixture.SessionsAsync(workspaceId, admin)).Count == 1, timeout ?? TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(25)),
            $"workspace {workspaceId} got no session\n{(broker ?? fixture.Broker).LogTail()}");
        return sessions[0];
    }

    private Task WaitForGitConfigAsync(string container) => WaitForGitConfigAsync(fixture, container);

    /// <summary>The entrypoint runs `xares-sidecar install` right after the session opens.</summary>
    internal static async Task WaitForGitConfigAsync(DockerFixture fixture, string container) =>
        Assert.True(await Poll.UntilAsync(async () => (await fixture.ExecAsync(container, "git", "config", "--global", "--get-regexp", "credential")).Succeeded,
            TimeSpan.FromSeconds(5)), "xares-sidecar install did not configure git");
}
