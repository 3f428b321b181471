using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// A workspace's policy changed through PATCH /api/v1/workspaces/{id}, seen from the workspace:
/// the real sidecar hears the revocation and git loses access; and an AI credential the policy
/// excludes is named as such by `xares-sidecar run`.
/// </summary>
[Collection(DeadlineCollection.Name)]
public sealed class WorkspacePolicyTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task PatchNarrowsAllowedHosts_GitHostExcluded_SidecarDropsLeaseGitFailsAndAuditShowsIt()
    {
        var server = fixture.GitServer;
        var userId = await fixture.CreateUserAsync();
        await fixture.AddGitCredentialAsync(userId, server);
        var url = server.RepositoryUrl(await fixture.CreateRepositoryAsync(server));
        await using var workspace = await XaresWorkspace.StartAsync(fixture, userId);
        await workspace.Git.GitAsync("clone", url, "policy-clone").ShouldSucceedAsync();
        await workspace.Git.GitAsync("ls-remote", url).ShouldSucceedAsync(); // served from the sidecar's cache
        var leaseIds = (await fixture.Admin.ListLeasesAsync(workspace.Id)).Select(l => l.GetProperty("id").GetString()!).ToList();
        Assert.NotEmpty(leaseIds);

        var patched = await fixture.Admin.SendAsync(HttpMethod.Patch, $"api/v1/workspaces/{workspace.Id}",
            new { allowedHosts = new[] { "git.elsewhere.test" } });

        Assert.Equal(["git.elsewhere.test"], patched.GetProperty("allowedHosts").EnumerateArray().Select(h => h.GetString()));
        // The sidecar hears the leases' revocation on its stream and drops it.
        Assert.True(await Poll.UntilAsync(() => Task.FromResult(leaseIds.All(id => HeardRevocation(SidecarLog(workspace), id))), GiveUpAfter),
            "The sidecar never logged the lease's revocation:\n" + workspace.Sidecar.LogTail());
        CommandResult last = null!;
        Assert.True(await Poll.UntilAsync(async () => !(last = await workspace.Git.GitAsync("ls-remote", url)).Succeeded, GiveUpAfter),
            $"git still reached the repository after the policy excluded its host:\n{last}");
        await workspace.Git.GitAsync("ls-remote", url).ShouldFailAsync();
        Assert.Empty(await fixture.Admin.ListLeasesAsync(workspace.Id));

        var update = Assert.Single(await fixture.Admin.QueryAuditAsync(workspaceId: workspace.Id, action: "workspace.update"));
        var detail = update.GetProperty("detail").GetString()!;
        Assert.Contains("allowed hosts (all hosts) -> [git.elsewhere.test]", detail, StringComparison.Ordinal);
        Assert.Contains($"revoked {leaseIds.Count} lease(s) for hosts no longer allowed: ", detail, StringComparison.Ordinal);
        Assert.All(leaseIds, id => Assert.Contains(id, detail, StringComparison.Ordinal));
        Assert.True((await fixture.Admin.VerifyAuditAsync()).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Run_AiProviderHostExcludedByPolicy_NamesThePolicyNotAMissingCredential()
    {
        var userId = await fixture.CreateUserAsync();
        var created = await fixture.Admin.SendAsync(HttpMethod.Post, $"api/v1/users/{userId}/credentials",
            // delivery "any": the end of the test reads the key through `env` (inject mode).
            new { kind = "ai", provider = "anthropic", secret = "sk-ant-" + TestSecrets.NewToken(), delivery = "any" });
        var credentialId = AdminClient.IdOf(created);
        var name = fixture.NextName("policy");
        var grant = await fixture.Admin.CreateWorkspaceAsync(userId, name, ["git.example.test"]);
        await using var sidecar = await SidecarProcess.StartAsync(fixture.Directory, fixture.Broker.GrpcUrl, grant.BootstrapToken, name + "-sc");
        var git = GitWorkspace.Create(fixture.Directory, sidecar.SocketPath, name);

        var run = await git.RunAsync(Artifacts.Sidecar, ["run", "--tool", "claude", "--", "true"]).ShouldFailAsync();
        var env = await git.RunAsync(Artifacts.Sidecar, ["env", "--tool", "claude"]).ShouldFailAsync();

        foreach (var result in new[] { run, env })
        {
            Assert.StartsWith("xares: no usable AI credential for tool claude: ", result.Stderr, StringComparison.Ordinal);
            Assert.Contains($"allowedHosts exclude api.anthropic.com:443 (the anthropic credential {credentialId})", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("PATCH /api/v1/workspaces/{id}", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("has no AI credentials", result.Stderr, StringComparison.Ordinal);
            Assert.Equal("", result.Stdout);
        }

        // Allowing the host fixes it, without restarting anything.
        await fixture.Admin.SendAsync(HttpMethod.Patch, $"api/v1/workspaces/{grant.Id}", new { allowedHosts = new[] { "git.example.test", "api.anthropic.com" } });
        var fixedEnv = await git.RunAsync(Artifacts.Sidecar, ["env", "--tool", "claude"]).ShouldSucceedAsync();
        Assert.Contains("ANTHROPIC_API_KEY", fixedEnv.Stdout, StringComparison.Ordinal);
    }

    private static string SidecarLog(XaresWorkspace workspace)
    {
        using var stream = new FileStream(workspace.Sidecar.LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    private static bool HeardRevocation(string log, string leaseId) =>
        log.Split('\n').Any(line => line.Contains(leaseId, StringComparison.Ordinal) && line.Contains("revoked", StringComparison.Ordinal));
}
