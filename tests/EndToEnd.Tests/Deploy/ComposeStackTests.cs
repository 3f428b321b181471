using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Deploy;

/// <summary>
/// The compose stack as an operator runs it (deploy/compose/README.md): one `up` for PostgreSQL,
/// two broker replicas watching the engine and the git server; a registered workspace's container
/// bootstrapped by the watcher; git through its sidecar; one replica stopped; a revocation heard.
/// </summary>
[Collection(DockerEngineCollection.Name)]
public sealed partial class ComposeStackTests : IDisposable
{
    private readonly ScratchDirectory directory = ScratchDirectory.Create("xdeploy-");

    [Fact]
    public async Task Stack_UpWorkspaceGitFailover_KeepsWorkingAndHearsRevocations()
    {
        await using var stack = await ComposeStack.CreateAsync(directory);
        await stack.ComposeAsync("up", "-d").ShouldSucceedAsync();
        await WaitReadyAsync(stack.RestUrl("broker-a"));
        await WaitReadyAsync(stack.RestUrl("broker-b"));

        var key = await InitialAdminKeyAsync(stack);
        using var adminA = new AdminClient(stack.RestUrl("broker-a"), key);
        using var adminB = new AdminClient(stack.RestUrl("broker-b"), key);
        var gitUrl = $"http://127.0.0.1:{stack.GitPort}";
        var userId = await adminA.CreateUserAsync("alice");
        var credential = AdminClient.IdOf(await adminA.CreateGitCredentialAsync(userId, gitUrl, stack.GitAccounts[0].User, stack.GitAccounts[0].Token));
        var workspace = (await adminA.CreateWorkspaceAsync(userId, "alice-app")).Id;

        await stack.StartWorkspaceAsync(workspace).ShouldSucceedAsync();
        Assert.True(await Poll.UntilAsync(async () => SessionHeld().IsMatch((await stack.ExecAsync("workspace", "xares-sidecar", "status")).Stdout),
            TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(1)), "the watcher did not bootstrap the workspace's sidecar:\n" + await stack.ComposeAsync("logs", "--tail", "50"));

        var repo = $"{gitUrl}/team/app.git";
        await stack.ExecAsync("workspace", "git", "clone", repo, "/tmp/app").ShouldSucceedAsync();
        await PushAsync(stack, "one");

        // One replica gone: the sidecar moves to the other for its session, leases and revocations.
        await stack.ComposeAsync("stop", "-t", "5", "broker-a").ShouldSucceedAsync();
        await adminB.DeleteCredentialAsync(credential);
        Assert.True(await Poll.UntilAsync(async () => !(await stack.ExecAsync("workspace", "git", "ls-remote", repo)).Succeeded, TimeSpan.FromSeconds(30)),
            "the sidecar kept serving a deleted credential");
        await adminB.CreateGitCredentialAsync(userId, gitUrl, stack.GitAccounts[1].User, stack.GitAccounts[1].Token);
        await PushAsync(stack, "two");
        var log = await stack.ExecAsync("git-server", "git", "--git-dir", "/srv/git/team/app.git", "log", "--format=%s", "main").ShouldSucceedAsync();
        Assert.Equal(["two", "one"], log.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(2));

        await AssertHardenedAndHealthyAsync(stack, "broker-b");
        Assert.True((await adminB.VerifyAuditAsync()).GetProperty("ok").GetBoolean());
    }

    /// <summary>The first replica to create the schema writes the initial admin key into its data volume once it listens.</summary>
    private static async Task<string> InitialAdminKeyAsync(ComposeStack stack)
    {
        var key = "";
        var found = await Poll.UntilAsync(async () =>
        {
            foreach (var broker in new[] { "broker-a", "broker-b" })
            {
                if (await stack.ExecAsync(broker, "cat", "/var/lib/xares/initial-admin-key") is { Succeeded: true } read)
                {
                    key = read.Stdout.Trim();
                    return true;
                }
            }
            return false;
        }, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1));
        Assert.True(found, "neither replica wrote /var/lib/xares/initial-admin-key:\n" + await stack.ComposeAsync("logs", "--tail", "30"));
        return key;
    }

    private static async Task PushAsync(ComposeStack stack, string message) =>
        await stack.ExecAsync("workspace", "sh", "-c",
            $"cd /tmp/app && echo {message} > {message}.txt && git add {message}.txt && git -c user.name=t -c user.email=t@example.test commit -qm {message} && git push -q origin HEAD:main")
            .ShouldSucceedAsync();

    /// <summary>The image's promises: non-root, read-only root filesystem, and a HEALTHCHECK (the broker's own `health`) that passes.</summary>
    private static async Task AssertHardenedAndHealthyAsync(ComposeStack stack, string service)
    {
        var container = await stack.ContainerAsync(service);
        var inspect = JsonDocument.Parse(await stack.Engine.DockerOkAsync("inspect", container)).RootElement[0];
        Assert.Equal("1654:1654", inspect.GetProperty("Config").GetProperty("User").GetString());
        Assert.True(inspect.GetProperty("HostConfig").GetProperty("ReadonlyRootfs").GetBoolean());
        Assert.True(await Poll.UntilAsync(async () => await stack.Engine.DockerOkAsync("inspect", "--format", "{{.State.Health.Status}}", container) == "healthy",
            TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(1)), $"{service} never became healthy:\n" + await stack.Engine.DockerOkAsync("inspect", "--format", "{{json .State.Health}}", container));
    }

    private static async Task WaitReadyAsync(string restUrl)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Assert.True(await Poll.UntilAsync(async () =>
        {
            try
            {
                return (await http.GetAsync($"{restUrl}/readyz")).StatusCode == HttpStatusCode.OK;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(500)), $"{restUrl}/readyz never answered 200");
    }

    [GeneratedRegex("^session: *yes", RegexOptions.Multiline)]
    private static partial Regex SessionHeld();

    public void Dispose() => directory.Dispose();
}
