using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Connections;

/// <summary>
/// OAuth connections end to end with real git through the real sidecar and helper, against
/// oidc-provider: `xares-sidecar connect` runs the device flow (approved without a browser), git
/// clones with the access token, the token expires, the next fill refreshes it, the push works,
/// and the old token is refused upstream; disconnecting revokes at the provider.
/// </summary>
public sealed class OAuthConnectionTests(OAuthFixture fixture) : IClassFixture<OAuthFixture>
{
    [Fact]
    public async Task Connect_Clone_TokenExpires_FillRefreshes_PushWorks_OldTokenRefused_DisconnectRevokes()
    {
        var userId = await fixture.Admin.CreateUserAsync(fixture.NextName("alice"));
        var name = fixture.NextName("ws");
        var workspace = await fixture.Admin.CreateWorkspaceAsync(userId, name);
        await using var sidecar = await SidecarProcess.StartAsync(fixture.Directory, fixture.Broker.GrpcUrl, workspace.BootstrapToken, name + "-sc");
        var git = GitWorkspace.Create(fixture.Directory, sidecar.SocketPath, name);

        // connect: the sidecar prints the URL and code and waits; the user approves at the provider.
        var connect = git.RunAsync(Artifacts.Sidecar, ["connect", OAuthFixture.ProviderName], timeout: TimeSpan.FromSeconds(40));
        string? userCode = null;
        Assert.True(await Poll.UntilAsync(async () =>
        {
            var pending = AdminClient.ItemsOf(await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/users/{userId}/connections"))
                .FirstOrDefault(c => c.GetProperty("status").GetString() == "pending");
            userCode = pending.ValueKind == System.Text.Json.JsonValueKind.Object ? pending.GetProperty("userCode").GetString() : null;
            return userCode is not null;
        }, TimeSpan.FromSeconds(15)), "no pending connection appeared");
        await fixture.Idp.ApproveAsync(userCode!);
        var connected = await connect.ShouldSucceedAsync();
        Assert.Contains(userCode!, connected.Stdout);
        Assert.Contains(fixture.Idp.Issuer + "/device", connected.Stdout);
        Assert.Contains("Connected to", connected.Stdout);

        var connection = AdminClient.ItemsOf(await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/users/{userId}/connections")).Single();
        Assert.Equal("active", connection.GetProperty("status").GetString());
        Assert.True(connection.GetProperty("hasRefreshToken").GetBoolean());
        Assert.Equal(workspace.Id, connection.GetProperty("workspaceId").GetString());
        var connectionId = AdminClient.IdOf(connection);

        // install configures git for the connected host; clone and commit.
        await git.InstallXaresAsync().ShouldSucceedAsync();
        var url = fixture.GitServer.RepositoryUrl("acme/app.git");
        await git.GitAsync("clone", url, "app").ShouldSucceedAsync();
        var clone = Path.Combine(git.WorkRoot, "app");
        var first = await FillAsync(git, fixture.GitServer.BaseUrl);
        Assert.Equal("oauth2", first.Username);
        Assert.True(await fixture.Idp.IsActiveAsync(first.Password));

        // The access token (15 s) expires; the sidecar's lease went with it (lease expiry <= token expiry).
        Assert.True(await Poll.UntilAsync(async () => !await fixture.Idp.IsActiveAsync(first.Password), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500)));
        await File.WriteAllTextAsync(Path.Combine(clone, "oauth.txt"), "pushed with a refreshed access token\n");
        await git.GitInAsync(clone, "add", "oauth.txt").ShouldSucceedAsync();
        await git.GitInAsync(clone, "commit", "-m", "oauth").ShouldSucceedAsync();
        await git.GitInAsync(clone, "push", "origin", "HEAD").ShouldSucceedAsync();

        var second = await FillAsync(git, fixture.GitServer.BaseUrl);
        Assert.NotEqual(first.Password, second.Password);
        Assert.True(await fixture.Idp.IsActiveAsync(second.Password));
        // The old access token is refused upstream.
        Assert.Equal(HttpStatusCode.Unauthorized, await InfoRefsAsync(url, first.Password));
        Assert.Equal(HttpStatusCode.OK, await InfoRefsAsync(url, second.Password));
        var refreshed = await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{connectionId}");
        Assert.True(refreshed.GetProperty("refreshedAt").ValueKind == System.Text.Json.JsonValueKind.String);

        var audit = await fixture.Admin.QueryAuditAsync(credentialId: connectionId);
        Assert.Contains(audit, r => r.GetProperty("action").GetString() == "connection.connect" && r.GetProperty("outcome").GetString() == "success");
        Assert.Contains(audit, r => r.GetProperty("action").GetString() == "connection.refresh" && r.GetProperty("outcome").GetString() == "success");
        Assert.Contains(audit, r => r.GetProperty("action").GetString() == "lease.issue");

        // Disconnect: the lease ends at once, the tokens are revoked at the provider (RFC 7009).
        await fixture.Admin.SendAsync(HttpMethod.Delete, $"api/v1/connections/{connectionId}");
        Assert.True(await Poll.UntilAsync(async () => !await fixture.Idp.IsActiveAsync(second.Password), TimeSpan.FromSeconds(10)),
            "the access token is still active at the provider after disconnect");
        Assert.True(await Poll.UntilAsync(async () => (await fixture.Admin.QueryAuditAsync(credentialId: connectionId, action: "connection.token_revoke"))
            .Any(r => r.GetProperty("outcome").GetString() == "success"), TimeSpan.FromSeconds(10)));
        Assert.Equal(HttpStatusCode.Unauthorized, await InfoRefsAsync(url, second.Password));
        var refused = await git.GitInAsync(clone, "fetch");
        Assert.NotEqual(0, refused.ExitCode);

        // Nothing secret reached a REST answer, the audit trail or the workspace's disk.
        var everything = await fixture.Admin.GetRawAsync($"api/v1/audit?userId={userId}&limit=1000");
        Assert.DoesNotContain(first.Password, everything);
        Assert.DoesNotContain(second.Password, everything);
        Assert.Empty(SecretScanner.FindFilesContaining(second.Password, [git.Home, git.WorkRoot]));
        Assert.True((await fixture.Admin.VerifyAuditAsync()).GetProperty("ok").GetBoolean());
    }

    /// <summary>`git credential fill` in the workspace: what git gets for the git server (through the helper and sidecar).</summary>
    internal static async Task<(string Username, string Password)> FillAsync(GitWorkspace git, string baseUrl)
    {
        var origin = new Uri(baseUrl);
        var result = await git.RunAsync("git", ["credential", "fill"], $"protocol={origin.Scheme}\nhost={origin.Authority}\n\n").ShouldSucceedAsync();
        var lines = result.Stdout.Split('\n').Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        return (lines["username"], lines["password"]);
    }

    internal static async Task<HttpStatusCode> InfoRefsAsync(string repositoryUrl, string token)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, repositoryUrl + "/info/refs?service=git-upload-pack");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("oauth2:" + token)));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
