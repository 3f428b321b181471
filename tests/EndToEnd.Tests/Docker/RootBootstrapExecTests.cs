using System.Text.Json;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Docker;

/// <summary>
/// A workspace image whose USER is the workspace user (uid 1000), so the sidecar runs under it:
/// the broker's bootstrap exec still runs as root (the workspace user cannot trace it), and the
/// sidecar takes the token from that root peer (issue 15, item 7).
/// </summary>
[Collection(DockerEngineCollection.Name)]
public sealed class RootBootstrapExecTests(DockerFixture fixture) : IClassFixture<DockerFixture>
{
    // Unique to this test: other worktrees build their own xares-test/* images on the same engine.
    private const string Image = "xares-test/root-bootstrap-exec-user-dev";
    private const int WorkspaceUid = 1000;

    [Fact]
    public async Task ImageUserIsTheWorkspaceUser_BootstrapExecRunsAsRootAndTheSidecarAcceptsIt()
    {
        await BuildImageAsync();
        var (userId, _, url) = await fixture.CreateGitUserAsync();
        var workspaceId = await fixture.CreateWorkspaceAsync(userId);

        var container = await fixture.RunContainerAsync(workspaceId, image: Image, tmpfsOwner: WorkspaceUid);

        Assert.True(await Poll.UntilAsync(async () => (await fixture.SessionsAsync(workspaceId)).Count == 1, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(25)),
            $"no session for a sidecar running as uid {WorkspaceUid}\n{fixture.Broker.LogTail()}\n{await LogsAsync(container)}");
        // The sidecar runs as the workspace user and names the peer that handed it the token: root.
        // The entrypoint's `status` and `install` may be running too: `serve` started first, so it has the lowest pid.
        var sidecarUid = await fixture.Engine.DockerOkAsync("exec", container, "sh", "-c",
            "set -- $(pidof xares-sidecar); p=$1; for q; do [ \"$q\" -lt \"$p\" ] && p=$q; done; stat -c %u /proc/$p");
        Assert.Equal(WorkspaceUid.ToString(System.Globalization.CultureInfo.InvariantCulture), sidecarUid);
        Assert.True(await Poll.UntilAsync(async () => BootstrapPeerUids(await LogsAsync(container)).Contains(0u), TimeSpan.FromSeconds(5)),
            "the sidecar did not log a bootstrap from uid 0\n" + await LogsAsync(container));
        Assert.DoesNotContain(WorkspaceUid, BootstrapPeerUids(await LogsAsync(container)).Select(u => (int)u));

        // Root got no more than the hand-over: as root, the socket answers nothing else.
        var status = await fixture.Engine.DockerAsync("exec", "-u", "0", container, "xares-sidecar", "status");
        Assert.False(status.Succeeded, "root was served a status request\n" + status);
        Assert.Contains("without an answer", status.Stderr, StringComparison.Ordinal);
        await fixture.AssertSessionAsync(container, held: true);
        Assert.True(await Poll.UntilAsync(async () => (await fixture.ExecAsync(container, "git", "config", "--global", "--get-regexp", "credential")).Succeeded,
            TimeSpan.FromSeconds(5)), "xares-sidecar install did not configure git\n" + await LogsAsync(container));
        await fixture.ExecAsync(container, "git", "clone", url, "/tmp/repo").ShouldSucceedAsync();
    }

    private async Task BuildImageAsync()
    {
        var context = fixture.Directory.Sub("root-exec-image");
        foreach (var binary in new[] { Artifacts.Sidecar, Artifacts.GitHelper })
        {
            File.Copy(binary, Path.Combine(context, Path.GetFileName(binary)), overwrite: true);
        }
        File.Copy(Path.Combine(RepositoryRoot(), "docker", "xares-entrypoint.sh"), Path.Combine(context, "xares-entrypoint.sh"), overwrite: true);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), $"""
            FROM xares-test/base
            COPY xares-sidecar git-credential-xares xares-entrypoint.sh /usr/local/bin/
            RUN mkdir -p /home/dev && chown {WorkspaceUid}:{WorkspaceUid} /home/dev
            USER dev
            ENTRYPOINT ["/usr/local/bin/xares-entrypoint.sh"]
            CMD ["sleep", "infinity"]
            """);
        await fixture.Engine.BuildAsync(Image, context);
    }

    private async Task<string> LogsAsync(string container)
    {
        var logs = await fixture.Engine.DockerAsync("logs", container);
        return logs.Stdout + logs.Stderr;
    }

    /// <summary>The Uid of every "bootstrap token received over the socket" line of the sidecar's JSON log.</summary>
    private static List<uint> BootstrapPeerUids(string logs) =>
        [.. logs.Split('\n')
            .Where(l => l.StartsWith('{') && l.Contains("bootstrap token received over the socket", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("Uid").GetUInt32())];

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Xares.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("No Xares.sln above " + AppContext.BaseDirectory);
    }
}
