using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Xares.DevGitServer;
using Xares.DevGitServer.GitHub;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// A broker (--outbound-allow 127.0.0.1, reuse margin 5 s), the GitHub API stand-in minting
/// 20-second tokens, and a git server that accepts those tokens only through the stand-in's
/// introspection, for their repositories and until they expire or are revoked.
/// </summary>
public sealed class GitHubAppFixture : IAsyncLifetime
{
    internal const string AppId = "424242";
    internal const long InstallationId = 9001;

    internal ScratchDirectory Directory { get; } = ScratchDirectory.Create();

    internal GitHubApiStandIn GitHub { get; private set; } = null!;

    internal GitHttpServer GitServer { get; private set; } = null!;

    internal BrokerProcess Broker { get; private set; } = null!;

    internal AdminClient Admin { get; private set; } = null!;

    internal RSA AppKey { get; } = RSA.Create(2048);

    public async Task InitializeAsync()
    {
        GitHub = await GitHubApiStandIn.StartAsync();
        GitHub.TokenLifetime = TimeSpan.FromSeconds(20);
        var verifying = RSA.Create();
        verifying.ImportSubjectPublicKeyInfo(AppKey.ExportSubjectPublicKeyInfo(), out _);
        GitHub.AddApp(AppId, verifying);
        GitHub.AddInstallation(new StandInInstallation(InstallationId, AppId, "acme", ["app", "other"]));
        GitServer = await GitHttpServer.StartAsync(new GitHttpServerOptions
        {
            RepositoriesRoot = Directory.Sub("git"), TokenIntrospectionUrl = new Uri(GitHub.Origin + "/_standin/introspect"),
        });
        await GitServer.CreateRepositoryAsync("acme/app.git");
        await GitServer.CreateRepositoryAsync("acme/other.git");
        Broker = await BrokerProcess.StartAsync(Directory, "--outbound-allow", "127.0.0.1", "--minted-reuse-margin-seconds", "5");
        Admin = Broker.CreateAdminClient();
        await Admin.SendAsync(HttpMethod.Post, "api/v1/github-apps", new
        {
            name = "acme bot", appId = long.Parse(AppId, System.Globalization.CultureInfo.InvariantCulture), privateKey = AppKey.ExportRSAPrivateKeyPem(),
            apiUrl = GitHub.Origin, gitUrl = GitServer.BaseUrl,
        });
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }
        if (GitServer is not null)
        {
            await GitServer.DisposeAsync();
        }
        if (GitHub is not null)
        {
            await GitHub.DisposeAsync();
        }
        AppKey.Dispose();
        Directory.Dispose();
    }
}

/// <summary>
/// GitHub App installation tokens end to end, with real git through the real sidecar and helper:
/// a repository the workspace names is cloned and pushed with a minted token narrowed to it, a
/// repository it does not name gets nothing, an expiring token is replaced, and deleting the
/// workspace revokes the token at GitHub so the git server refuses it. With the deadline tests:
/// a cold fill mints within the sidecar's 1.5 s miss deadline only on a CPU no other test loads.
/// </summary>
[Collection(DeadlineCollection.Name)]
public sealed class GitHubAppTests(GitHubAppFixture fixture) : IClassFixture<GitHubAppFixture>
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task MintedToken_CloneAllowed_OtherRepoRefused_ExpiryRemints_WorkspaceDeletionRevokesUpstream()
    {
        var since = DateTime.UtcNow;
        var userId = await fixture.Admin.CreateUserAsync("gh-user");
        var host = new Uri(fixture.GitServer.BaseUrl).Authority;
        var created = await fixture.Admin.SendAsync(HttpMethod.Post, "api/v1/workspaces", new
        {
            userId, name = "gh-ws", repositories = new[] { new { host, name = "acme/app", access = "write" } },
        });
        var workspaceId = AdminClient.IdOf(created);
        await using var sidecar = await SidecarProcess.StartAsync(fixture.Directory, fixture.Broker.GrpcUrl, created.GetProperty("bootstrapToken").GetString()!, "gh-sc");
        var git = GitWorkspace.Create(fixture.Directory, sidecar.SocketPath, "gh-ws");
        await git.InstallXaresAsync().ShouldSucceedAsync();

        // install turned on useHttpPath for the app's git host: git sends owner/repo, which the scope needs.
        var useHttpPath = await git.GitAsync("config", "--global", "--get", $"credential.{fixture.GitServer.BaseUrl}.useHttpPath").ShouldSucceedAsync();
        Assert.Equal("true", useHttpPath.Stdout.Trim());

        var appUrl = fixture.GitServer.RepositoryUrl("acme/app.git");
        var otherUrl = fixture.GitServer.RepositoryUrl("acme/other.git");
        await git.GitAsync("clone", appUrl, "app").ShouldSucceedAsync();
        var clone = Path.Combine(git.WorkRoot, "app");
        await File.WriteAllTextAsync(Path.Combine(clone, "minted.txt"), "pushed with an installation token\n");
        await git.GitInAsync(clone, "add", "minted.txt").ShouldSucceedAsync();
        await git.GitInAsync(clone, "commit", "-m", "minted").ShouldSucceedAsync();
        await git.GitInAsync(clone, "push", "origin", "HEAD").ShouldSucceedAsync();

        var mint = Assert.Single(fixture.GitHub.Mints);
        Assert.Equal(GitHubAppFixture.InstallationId, mint.InstallationId);
        Assert.Equal(["app"], mint.Repositories);
        Assert.Equal("write", mint.Permissions["contents"]);
        Assert.Equal("read", mint.Permissions["metadata"]);
        Assert.Equal(2, mint.Permissions.Count);
        Assert.Equal(GitHubAppFixture.AppId, mint.Claims.Issuer);
        Assert.InRange(mint.Claims.ExpiresAt - mint.Claims.IssuedAt, 60, 660);
        var first = Assert.Single(fixture.GitHub.Tokens);

        // acme/other is not in the policy: no credential, git fails, nothing is minted for it.
        await git.GitInAsync(clone, "push", otherUrl, "HEAD:refs/heads/sneaky").ShouldFailAsync();
        Assert.DoesNotContain(fixture.GitServer.AuthAttempts, a => a.Path.StartsWith("/acme/other.git", StringComparison.Ordinal) && a.Succeeded);
        Assert.Single(fixture.GitHub.Mints);
        var denied = await fixture.Admin.QueryAuditAsync(workspaceId: workspaceId, action: "lease.issue");
        Assert.Contains(denied, a => a.GetProperty("outcome").GetString() == "denied"
            && a.GetProperty("detail").GetString()!.Contains("acme/other is not a repository of this workspace's policy", StringComparison.Ordinal));

        // The token lives 20 s and is reused until 5 s before: after that the next fetch gets a new one.
        await Task.Delay(first.ExpiresAt - DateTimeOffset.UtcNow - TimeSpan.FromSeconds(4));
        await git.GitInAsync(clone, "fetch", "origin").ShouldSucceedAsync();
        Assert.True(fixture.GitHub.Mints.Count >= 2, $"expected a new mint after the reuse margin, saw {fixture.GitHub.Mints.Count}");
        var latest = fixture.GitHub.Tokens.OrderBy(t => t.ExpiresAt).Last();
        Assert.NotEqual(first.Token, latest.Token);

        // Deleting the workspace revokes the live token at GitHub; the git server refuses it from then on.
        await fixture.Admin.DeleteWorkspaceAsync(workspaceId);
        Assert.True(await Poll.UntilAsync(() => Task.FromResult(fixture.GitHub.RevokedTokens.Any(t => t.Token == latest.Token)), GiveUpAfter),
            "The stand-in never saw DELETE /installation/token for the workspace's token:\n" + string.Join('\n', fixture.GitHub.Calls));
        using var http = new HttpClient();
        using var probe = new HttpRequestMessage(HttpMethod.Get, appUrl + "/info/refs?service=git-upload-pack");
        probe.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("x-access-token:" + latest.Token)));
        using var response = await http.SendAsync(probe);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var upstream = await fixture.Admin.QueryAuditAsync(workspaceId: workspaceId, action: "github_app.token_revoke");
        Assert.Contains(upstream, a => a.GetProperty("outcome").GetString() == "success");
        Assert.True((await fixture.Admin.VerifyAuditAsync()).GetProperty("ok").GetBoolean());

        // No token on any disk: broker data and log, sidecar log, the workspace's home and work tree, temp files.
        foreach (var token in fixture.GitHub.Tokens)
        {
            var hits = SecretScanner.FindFilesContaining(token.Token, [fixture.Directory.Path])
                .Concat(SecretScanner.FindFilesContaining(token.Token, ["/tmp"], since)).Distinct().ToList();
            Assert.True(hits.Count == 0, "Token found in:\n" + string.Join('\n', hits));
        }
    }
}
