using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary><c>xares-sidecar install</c> configures git per served host so no other helper stores a Xares token (rule h).</summary>
public sealed class InstallTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    [Fact]
    public async Task ClonePush_UserConfiguredStoreHelper_TokenNeverReachesGitCredentials()
    {
        var started = DateTime.UtcNow;
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        var identity = await fixture.AddGitCredentialAsync(userId, server);
        var url = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server));
        await using var workspace = await XaresWorkspace.StartAsync(fixture, userId,
            prepareHome: git => git.GitAsync("config", "--global", "credential.helper", "store").ShouldSucceedAsync());
        var git = workspace.Git;

        await git.GitAsync("clone", url, "app").ShouldSucceedAsync();
        var work = Path.Combine(git.WorkRoot, "app");
        await GitCredentialFlowTests.CommitAsync(git, work, "change.txt");
        await git.GitInAsync(work, "push", "origin", "main").ShouldSucceedAsync();

        var stored = Path.Combine(git.Home, ".git-credentials");
        Assert.False(File.Exists(stored) && (await File.ReadAllTextAsync(stored)).Contains(identity.Token, StringComparison.Ordinal), "~/.git-credentials holds the Xares token.");
        // The user's own helper still serves every other host.
        Assert.Equal("store", (await git.GitAsync("config", "--global", "--get", "credential.helper").ShouldSucceedAsync()).Stdout.Trim());
        fixture.AssertSecretOnNoDisk(identity.Token, started);
    }

    [Fact]
    public async Task Install_RunTwice_WritesResetThenXaresHelperOncePerHost()
    {
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        await fixture.AddGitCredentialAsync(userId, server);
        await using var workspace = await XaresWorkspace.StartAsync(fixture, userId);

        await workspace.Git.InstallXaresAsync().ShouldSucceedAsync();

        var helpers = (await workspace.Git.GitAsync("config", "--global", "--get-all", $"credential.{server.BaseUrl}.helper").ShouldSucceedAsync())
            .Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(2, helpers.Length);
        Assert.Equal("", helpers[0]);
        Assert.Contains("xares", helpers[1], StringComparison.Ordinal);
    }
}
