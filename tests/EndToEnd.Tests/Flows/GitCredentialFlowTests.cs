using System.Text.Json;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>The whole path: git → published helper → sidecar → broker → a git server demanding the stored token.</summary>
public sealed class GitCredentialFlowTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    [Fact]
    public async Task CloneCommitPushFetchPull_ThroughSidecar_SucceedsWithoutTokenOnDisk()
    {
        var started = DateTime.UtcNow;
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        var identity = await fixture.AddGitCredentialAsync(userId, server);
        var url = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server));
        await using var workspace = await XaresWorkspace.StartAsync(fixture, userId);
        var git = workspace.Git;

        await git.GitAsync("clone", url, "first").ShouldSucceedAsync();
        var first = Path.Combine(git.WorkRoot, "first");
        await CommitAsync(git, first, "one.txt");
        await git.GitInAsync(first, "push", "origin", "main").ShouldSucceedAsync();

        await git.GitAsync("clone", url, "second").ShouldSucceedAsync();
        var second = Path.Combine(git.WorkRoot, "second");
        Assert.True(File.Exists(Path.Combine(second, "one.txt")));

        await CommitAsync(git, first, "two.txt");
        await git.GitInAsync(first, "push", "origin", "main").ShouldSucceedAsync();
        await git.GitInAsync(second, "fetch", "origin").ShouldSucceedAsync();
        await git.GitInAsync(second, "pull", "--ff-only").ShouldSucceedAsync();
        Assert.True(File.Exists(Path.Combine(second, "two.txt")));

        Assert.Contains(server.AuthAttempts, a => a.Succeeded && a.Username == identity.Username);
        Assert.NotEmpty(await fixture.Admin.ListLeasesAsync(workspace.Id));
        foreach (var listing in new[] { $"api/v1/leases?workspaceId={workspace.Id}", $"api/v1/users/{userId}/credentials", $"api/v1/audit?workspaceId={workspace.Id}" })
        {
            Assert.DoesNotContain(identity.Token, await fixture.Admin.GetRawAsync(listing), StringComparison.Ordinal);
        }

        fixture.AssertSecretOnNoDisk(identity.Token, started);
    }

    [Fact]
    public async Task AuditVerify_AfterLeasesIssued_ReportsIntactChain()
    {
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        await fixture.AddGitCredentialAsync(userId, server);
        var url = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server));
        await using var workspace = await XaresWorkspace.StartAsync(fixture, userId);
        await workspace.Git.GitAsync("ls-remote", url).ShouldSucceedAsync();

        var verdict = await fixture.Admin.VerifyAuditAsync();

        // §6 names the endpoint but not its body; any of these spellings of "the chain is intact" is accepted.
        var flag = new[] { "valid", "ok", "verified", "intact" }
            .Select(name => verdict.TryGetProperty(name, out var value) ? value : default)
            .FirstOrDefault(value => value.ValueKind is JsonValueKind.True or JsonValueKind.False);
        Assert.True(flag.ValueKind == JsonValueKind.True, $"GET /api/v1/audit/verify did not report an intact chain: {verdict.GetRawText()}");
    }

    internal static async Task CommitAsync(GitWorkspace git, string workTree, string file)
    {
        await File.WriteAllTextAsync(Path.Combine(workTree, file), file + "\n");
        await git.GitInAsync(workTree, "add", file).ShouldSucceedAsync();
        await git.GitInAsync(workTree, "commit", "-m", "Add " + file).ShouldSucceedAsync();
    }
}
