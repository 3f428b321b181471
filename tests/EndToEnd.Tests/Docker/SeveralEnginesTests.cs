using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Docker;

/// <summary>
/// One broker watching two real engines side by side (scripts/setup-docker.sh's, and a second one
/// under /tmp/xares-docker2) and a third that does not exist.
/// </summary>
public sealed class TwoEnginesFixture : DockerFixture
{
    internal DockerEngine Second { get; private set; } = null!;

    private protected override async Task StartMoreEnginesAsync()
    {
        Second = await DockerEngine.ConnectSecondAsync(Path.Combine(Directory.Logs, "docker2.log"));
        Assert.Equal(Image, await Second.BuildImagesAsync());
    }

    private protected override string[] DockerArguments() =>
        ["--docker", $"one={Engine.Endpoint}", "--docker", $"two={Second.Endpoint}", "--docker", "down=unix:///nonexistent/xares-engine.sock"];
}

/// <summary>Several Docker engines (README, Docker): each watched on its own, containers known as (engine, id).</summary>
[Collection(DockerEngineCollection.Name)]
public sealed class SeveralEnginesTests(TwoEnginesFixture fixture) : IClassFixture<TwoEnginesFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ContainerOnEachEngine_BothBootstrappedAndCloning_StoppingOneEndsOnlyItsSession()
    {
        var (userId, _, url) = await fixture.CreateGitUserAsync();
        var onOne = await fixture.CreateWorkspaceAsync(userId);
        var onTwo = await fixture.CreateWorkspaceAsync(userId);

        var first = await fixture.RunContainerAsync(onOne);
        var second = await fixture.RunContainerAsync(onTwo, engine: fixture.Second);

        foreach (var (workspaceId, engine, container) in new[] { (onOne, "one", first), (onTwo, "two", second) })
        {
            Assert.True(await Poll.UntilAsync(async () => (await fixture.SessionsAsync(workspaceId)).Count == 1, Bound, TimeSpan.FromMilliseconds(50)),
                $"no session for the container on engine {engine}\n{fixture.Broker.LogTail()}");
            var workspace = await fixture.WorkspaceAsync(workspaceId);
            Assert.Equal(engine, workspace.GetProperty("containerEngine").GetString());
            Assert.Equal(container, workspace.GetProperty("containerId").GetString());
            await DockerWatcherTests.WaitForGitConfigAsync(fixture, container);
            await fixture.ExecAsync(container, "git", "clone", url, "/tmp/repo").ShouldSucceedAsync();
        }
        Assert.Equal(1, await DockerWatcherTests.WatcherConnectedAsync(fixture.Broker, "one"));
        Assert.Equal(1, await DockerWatcherTests.WatcherConnectedAsync(fixture.Broker, "two"));
        Assert.Equal(0, await DockerWatcherTests.WatcherConnectedAsync(fixture.Broker, "down"));
        var kept = await fixture.SessionsAsync(onOne);

        await fixture.Second.DockerOkAsync("stop", "-t", "1", second);

        Assert.True(await Poll.UntilAsync(async () => (await fixture.SessionsAsync(onTwo)).Count == 0, Bound, TimeSpan.FromMilliseconds(50)),
            "the stopped container's session was not ended\n" + fixture.Broker.LogTail());
        Assert.Contains(await fixture.AuditAsync("docker.stop"), a => a.GetProperty("workspaceId").GetString() == onTwo
            && a.GetProperty("detail").GetString()!.StartsWith($"container two/{second[..12]} stopped", StringComparison.Ordinal));
        Assert.Equal(kept, await fixture.SessionsAsync(onOne));
        Assert.Equal("running", (await fixture.WorkspaceAsync(onOne)).GetProperty("containerState").GetString());
        await fixture.ExecAsync(first, "git", "ls-remote", url).ShouldSucceedAsync();
        Assert.Contains(File.ReadAllLines(fixture.Broker.LogFile), line => line.Contains("\"Engine\":\"down\"", StringComparison.Ordinal)
            && line.Contains("unreachable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WorkspaceBoundOnOneEngine_ContainerOnTheOtherNamingIt_Refused()
    {
        var (userId, _, _) = await fixture.CreateGitUserAsync();
        var workspaceId = await fixture.CreateWorkspaceAsync(userId);
        var first = await fixture.RunContainerAsync(workspaceId);
        Assert.True(await Poll.UntilAsync(async () => (await fixture.SessionsAsync(workspaceId)).Count == 1, Bound, TimeSpan.FromMilliseconds(50)),
            "no session\n" + fixture.Broker.LogTail());

        var intruder = await fixture.RunContainerAsync(workspaceId, bootstrapWaitSeconds: 1, engine: fixture.Second);

        Assert.True(await Poll.UntilAsync(async () => (await fixture.AuditAsync("docker.bind")).Any(a => a.GetProperty("outcome").GetString() == "denied"
            && a.GetProperty("detail").GetString() == $"container two/{intruder[..12]} refused: workspace {workspaceId} is bound to container one/{first[..12]}"),
            Bound), "the container on the other engine was not refused\n" + fixture.Broker.LogTail());
        Assert.Equal("one", (await fixture.WorkspaceAsync(workspaceId)).GetProperty("containerEngine").GetString());
    }
}
