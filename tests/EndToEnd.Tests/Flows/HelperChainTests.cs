using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// Rule h in the configurations the config-file section alone did not cover: a helper configured
/// after it, a repository's own helper, and any user helper under <c>install --system</c>. git runs
/// in the shells a workspace user gets (login shell, interactive bash), which load git-env.sh.
/// </summary>
public sealed class HelperChainTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    [Fact]
    public async Task ClonePush_GlobalStoreHelperAddedAfterInstall_LoginShellKeepsTokenOffDisk()
    {
        var started = DateTime.UtcNow;
        var (identity, url, workspace) = await StartAsync();
        await using var _ = workspace;
        var git = workspace.Git;
        // A later `git config --global credential.helper store`, written after the Xares section.
        await File.AppendAllTextAsync(git.GlobalConfig, "[credential]\n\thelper = store\n");

        await LoginShellGitAsync(git, git.WorkRoot, "clone", url, "app").ShouldSucceedAsync();
        var work = Path.Combine(git.WorkRoot, "app");
        await GitCredentialFlowTests.CommitAsync(git, work, "change.txt");
        await LoginShellGitAsync(git, work, "push", "origin", "main").ShouldSucceedAsync();

        AssertNoStoredToken(git, identity);
        fixture.AssertSecretOnNoDisk(identity.Token, started);
        // --check: a process that does not load git-env.sh would leak, and says where; a login shell would not.
        var plain = await git.RunAsync(Artifacts.Sidecar, ["install", "--check"]).ShouldFailAsync();
        Assert.Contains($"{git.GlobalConfig}:", plain.Stderr, StringComparison.Ordinal);
        await git.RunAsync("bash", ["-lc", "exec \"$0\" install --check", Artifacts.Sidecar]).ShouldSucceedAsync();

        await git.RunAsync(Artifacts.Sidecar, ["uninstall"]).ShouldSucceedAsync();
        Assert.False(File.Exists(Path.Combine(git.Home, ".profile")), "uninstall left the ~/.profile hook it created");
        Assert.DoesNotContain("xares", await File.ReadAllTextAsync(git.GlobalConfig), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_RepositoryLocalStoreHelper_InteractiveBashKeepsTokenOffDisk()
    {
        var started = DateTime.UtcNow;
        var (identity, url, workspace) = await StartAsync();
        await using var _ = workspace;
        var git = workspace.Git;

        // `docker exec -it … bash` is an interactive shell: it reads ~/.bashrc.
        await git.RunAsync("bash", ["-ic", "exec git \"$@\"", "bash", "clone", url, "app"]).ShouldSucceedAsync();
        var work = Path.Combine(git.WorkRoot, "app");
        await git.GitInAsync(work, "config", "--local", "credential.helper", "store").ShouldSucceedAsync();
        await GitCredentialFlowTests.CommitAsync(git, work, "change.txt");
        await git.RunAsync("bash", ["-ic", "exec git \"$@\"", "bash", "push", "origin", "main"], workingDirectory: work).ShouldSucceedAsync();

        AssertNoStoredToken(git, identity);
        fixture.AssertSecretOnNoDisk(identity.Token, started);
    }

    [Fact]
    public async Task ClonePush_SystemInstallWithUserStoreHelper_ProfileDKeepsTokenOffDisk()
    {
        var started = DateTime.UtcNow;
        var (identity, url, workspace) = await StartAsync(install: false);
        await using var _ = workspace;
        var git = workspace.Git;
        var system = fixture.Directory.Sub(Path.Combine(fixture.NextName("sys"), "etc"));
        git.Environment.Remove("GIT_CONFIG_NOSYSTEM");
        git.Environment["GIT_CONFIG_SYSTEM"] = Path.Combine(system, "gitconfig");
        await git.GitAsync("config", "--global", "credential.helper", "store").ShouldSucceedAsync();
        string[] layout = ["--system", "--env-dir", Path.Combine(system, "xares"), "--etc-dir", system];

        // System config is read first, so the user's helper follows Xares: install warns and names it.
        var install = await git.RunAsync(Artifacts.Sidecar, ["install", .. layout]).ShouldSucceedAsync();
        Assert.Contains($"warning: {git.GlobalConfig}:2: helper 'store'", install.Stderr, StringComparison.Ordinal);
        var profile = Path.Combine(system, "profile.d", "xares-git.sh");
        Assert.True(File.Exists(profile));

        string[] shell = ["-c", $". '{profile}'; exec git \"$@\"", "bash"];
        await git.RunAsync("bash", [.. shell, "clone", url, "app"]).ShouldSucceedAsync();
        var work = Path.Combine(git.WorkRoot, "app");
        await GitCredentialFlowTests.CommitAsync(git, work, "change.txt");
        await git.RunAsync("bash", [.. shell, "push", "origin", "main"], workingDirectory: work).ShouldSucceedAsync();

        AssertNoStoredToken(git, identity);
        fixture.AssertSecretOnNoDisk(identity.Token, started);
        await git.RunAsync(Artifacts.Sidecar, ["install", "--check", .. layout]).ShouldFailAsync();
    }

    [Fact]
    public async Task Clone_CommandLineStoreHelper_ForeignHelperAudited()
    {
        var (identity, url, workspace) = await StartAsync();
        await using var _ = workspace;
        var git = workspace.Git;
        var stored = Path.Combine(git.Home, "foreign-store");

        // `git -c` is read after every environment entry, so no install can put the reset after it:
        // git hands the lease to `store` as well, and the helper has the broker record that.
        await git.GitAsync("-c", $"credential.helper=store --file={stored}", "clone", url, "app").ShouldSucceedAsync();
        File.Delete(stored);

        var audit = await fixture.Admin.GetRawAsync($"api/v1/audit?workspaceId={workspace.Id}&action=lease.foreign_helper");
        Assert.Contains("lease.foreign_helper", audit, StringComparison.Ordinal);
        Assert.Contains("store", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("foreign-store", audit, StringComparison.Ordinal);
        Assert.DoesNotContain(identity.Token, audit, StringComparison.Ordinal);
    }

    private async Task<(GitIdentity Identity, string Url, XaresWorkspace Workspace)> StartAsync(bool install = true)
    {
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        var identity = await fixture.AddGitCredentialAsync(userId, server);
        var url = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server));
        return (identity, url, await XaresWorkspace.StartAsync(fixture, userId, install));
    }

    private static Task<CommandResult> LoginShellGitAsync(GitWorkspace git, string workingDirectory, params string[] arguments) =>
        git.RunAsync("bash", ["-lc", "exec git \"$@\"", "bash", .. arguments], workingDirectory: workingDirectory);

    private static void AssertNoStoredToken(GitWorkspace git, GitIdentity identity)
    {
        var stored = Path.Combine(git.Home, ".git-credentials");
        Assert.False(File.Exists(stored) && File.ReadAllText(stored).Contains(identity.Token, StringComparison.Ordinal), "~/.git-credentials holds the Xares token.");
    }
}
