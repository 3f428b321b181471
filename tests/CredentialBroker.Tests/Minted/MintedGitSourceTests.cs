using System.Net.Http.Json;
using System.Net.Sockets;
using Grpc.Core;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Minted;

public sealed class MintedGitSourceTests : MintedTestHost
{
    [Fact]
    public async Task Fill_NamedRepository_InstallationTokenNarrowedToOwnersRepositoriesOfThatAccess()
    {
        await RegisterAppAsync();
        var sidecar = await WorkspaceAsync(Repo("acme/app"), Repo("acme/lib"), Repo("acme/docs", "read"));

        var reply = await sidecar.GetAsync("https", GitHost, "acme/app.git");

        Assert.Equal(GitCredentialReply.ResultOneofCase.Lease, reply.ResultCase);
        Assert.Equal("x-access-token", reply.Lease.Username);
        var token = Assert.Single(GitHub.Tokens);
        Assert.Equal(token.Token, reply.Lease.Secret);
        Assert.True(reply.Lease.ExpiresAt.ToDateTimeOffset() <= token.ExpiresAt, "the lease must not outlive the token");
        var mint = Assert.Single(GitHub.Mints);
        Assert.Equal(["app", "lib"], mint.Repositories);
        Assert.Equal("write", mint.Permissions["contents"]);
        Assert.Equal("read", mint.Permissions["metadata"]);
        // The installation was looked up, not given.
        Assert.Contains(GitHub.Calls, c => c == "GET /repos/acme/app/installation");

        // The read-only repository gets its own token with contents: read.
        var docs = await sidecar.GetAsync("https", GitHost, "acme/docs");
        Assert.NotEqual(reply.Lease.Secret, docs.Lease.Secret);
        Assert.Equal(["docs"], GitHub.Mints[1].Repositories);
        Assert.Equal("read", GitHub.Mints[1].Permissions["contents"]);

        // Audited: the mint and the lease, never the token.
        var audit = await Host.Admin.GetStringAsync($"/api/v1/audit?workspaceId={sidecar.WorkspaceId}");
        Assert.Contains("github_app.mint", audit, StringComparison.Ordinal);
        Assert.Contains(reply.Lease.LeaseId, audit, StringComparison.Ordinal);
        var leases = await Host.Admin.GetStringAsync($"/api/v1/leases?workspaceId={sidecar.WorkspaceId}");
        foreach (var text in new[] { audit, leases })
        {
            Assert.DoesNotContain(reply.Lease.Secret, text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("acme/other.git")]   // not named
    [InlineData("evil/app.git")]     // another owner
    [InlineData("")]                 // git sent no path (useHttpPath off)
    [InlineData("acme/app/extra")]   // not owner/repo
    public async Task Fill_NotANamedRepository_NothingMintedAndDenied(string path)
    {
        await RegisterAppAsync();
        // A stored token for the same host must not be handed out either: the host is repository-scoped.
        await Host.CreateGitCredentialAsync(Alice, $"https://{GitHost}", "alice", "stored-pat-aaaaaaaaaaaa");
        var sidecar = await WorkspaceAsync(Repo("acme/app"));

        var reply = await sidecar.GetAsync("https", GitHost, path);

        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, reply.ResultCase);
        Assert.Empty(GitHub.Mints);
        Assert.Contains(await AuditAsync("lease.issue", sidecar.WorkspaceId), a => a.GetProperty("outcome").GetString() == "denied");
    }

    [Fact]
    public async Task Fill_HostWithoutNamedRepositories_StoredCredentialsAsBefore()
    {
        await RegisterAppAsync();
        await Host.CreateGitCredentialAsync(Alice, "https://git.other.test", "alice", "stored-pat-bbbbbbbbbbbb");
        var sidecar = await WorkspaceAsync(Repo("acme/app"));

        Assert.Equal("stored-pat-bbbbbbbbbbbb", (await sidecar.GetAsync("https", "git.other.test", "x/y.git")).Lease.Secret);
        Assert.Empty(GitHub.Mints);
    }

    [Fact]
    public async Task Fill_AppIdTheApiRejects_NoCredentialClearAuditNothingCached()
    {
        await RegisterAppAsync(appId: "404404");
        var sidecar = await WorkspaceAsync(Repo("acme/app"));

        var first = await sidecar.GetAsync("https", GitHost, "acme/app.git");
        var second = await sidecar.GetAsync("https", GitHost, "acme/app.git");

        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, first.ResultCase);
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, second.ResultCase);
        var failures = await AuditAsync("github_app.mint", sidecar.WorkspaceId);
        Assert.Equal(2, failures.Count);
        Assert.All(failures, f =>
        {
            Assert.Equal("failure", f.GetProperty("outcome").GetString());
            Assert.Contains("HTTP 401 (Integration not found)", f.GetProperty("detail").GetString(), StringComparison.Ordinal);
        });
        Assert.Equal(0, Count("minted_tokens"));
        Assert.Equal(0, Count("leases"));
        // The second fill came within the backoff: GitHub was asked once.
        Assert.Single(GitHub.Calls);
        Assert.Contains(failures, f => f.GetProperty("detail").GetString()!.Contains("not retried before", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Fill_ApiUnreachable_NoCredentialAndAuditSaysWhy()
    {
        int closedPort;
        using (var listener = new TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
        await RegisterAppAsync(apiUrl: $"http://127.0.0.1:{closedPort}");
        var sidecar = await WorkspaceAsync(Repo("acme/app"));

        var reply = await sidecar.GetAsync("https", GitHost, "acme/app.git");

        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, reply.ResultCase);
        var failure = Assert.Single(await AuditAsync("github_app.mint", sidecar.WorkspaceId));
        Assert.Equal("failure", failure.GetProperty("outcome").GetString());
        Assert.Contains("refused the connection", failure.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, Count("minted_tokens"));
    }

    [Fact]
    public async Task Fill_TwentyConcurrent_OneMintEveryFillGetsTheToken()
    {
        await RegisterAppAsync();
        var sidecar = await WorkspaceAsync(Repo("acme/app"));

        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => sidecar.GetAsync("https", GitHost, "acme/app.git")));

        Assert.Single(GitHub.Mints);
        var token = Assert.Single(GitHub.Tokens).Token;
        Assert.All(replies, r => Assert.Equal(token, r.Lease.Secret));
        Assert.Equal(20, replies.Select(r => r.Lease.LeaseId).Distinct().Count());
        // Later fills reuse it too.
        Assert.Equal(token, (await sidecar.GetAsync("https", GitHost, "acme/app")).Lease.Secret);
        Assert.Single(GitHub.Mints);
    }

    [Fact]
    public async Task RevokeLease_TokenRevokedUpstreamRetriedWhileGitHubIsDown()
    {
        await RegisterAppAsync();
        var sidecar = await WorkspaceAsync(Repo("acme/app"));
        var lease = (await sidecar.GetAsync("https", GitHost, "acme/app.git")).Lease;
        GitHub.FailRevocations(2);

        (await Host.Admin.DeleteAsync($"/api/v1/leases/{lease.LeaseId}")).EnsureSuccessStatusCode();

        // Local revocation is immediate: the lease is no longer valid, whatever GitHub does.
        var valid = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { lease.LeaseId } }, sidecar.Auth);
        Assert.Empty(valid.ValidLeaseIds);
        Assert.True(await Xares.DevKit.Poll.UntilAsync(() => Task.FromResult(GitHub.RevokedTokens.Count == 1), TimeSpan.FromSeconds(20)),
            "the token never reached DELETE /installation/token:\n" + string.Join('\n', GitHub.Calls));
        List<System.Text.Json.JsonElement> audit = [];
        Assert.True(await Xares.DevKit.Poll.UntilAsync(async () =>
            (audit = await AuditAsync("github_app.token_revoke", sidecar.WorkspaceId)).Any(a => a.GetProperty("outcome").GetString() == "success"), TimeSpan.FromSeconds(5)));
        Assert.Equal(2, audit.Count(a => a.GetProperty("outcome").GetString() == "failure"));
        Assert.Contains(audit, a => a.GetProperty("outcome").GetString() == "success");
        Assert.Equal(0, Count("upstream_revocations"));
        // A new fill mints a new token.
        Assert.NotEqual(lease.Secret, (await sidecar.GetAsync("https", GitHost, "acme/app.git")).Lease.Secret);
    }

    [Fact]
    public async Task PatchRepositories_Narrowed_TokenAndItsLeasesRevoked()
    {
        await RegisterAppAsync();
        var sidecar = await WorkspaceAsync(Repo("acme/app"), Repo("acme/lib"));
        var lease = (await sidecar.GetAsync("https", GitHost, "acme/app.git")).Lease;
        var other = (await sidecar.GetAsync("https", GitHost, "acme/lib.git")).Lease;
        Assert.Equal(lease.Secret, other.Secret);

        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/workspaces/{sidecar.WorkspaceId}")
        {
            Content = JsonContent.Create(new { repositories = new[] { Repo("acme/app") } }),
        };
        (await Host.Admin.SendAsync(patch)).EnsureSuccessStatusCode();

        var valid = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { lease.LeaseId, other.LeaseId } }, sidecar.Auth);
        Assert.Empty(valid.ValidLeaseIds);
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAsync("https", GitHost, "acme/lib.git")).ResultCase);
        var fresh = await sidecar.GetAsync("https", GitHost, "acme/app.git");
        Assert.Equal(["app"], GitHub.Mints[^1].Repositories);
        Assert.NotEqual(lease.Secret, fresh.Lease.Secret);
        var update = Assert.Single(await AuditAsync("workspace.update", sidecar.WorkspaceId));
        Assert.Contains("minted token(s) no longer covered", update.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(await Xares.DevKit.Poll.UntilAsync(() => Task.FromResult(GitHub.RevokedTokens.Count == 1), TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task DeleteApp_EveryTokenRevokedHereAndUpstream()
    {
        var appId = await RegisterAppAsync();
        var sidecar = await WorkspaceAsync(Repo("acme/app"));
        var lease = (await sidecar.GetAsync("https", GitHost, "acme/app.git")).Lease;

        (await Host.Admin.DeleteAsync($"/api/v1/github-apps/{appId}")).EnsureSuccessStatusCode();

        var valid = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { lease.LeaseId } }, sidecar.Auth);
        Assert.Empty(valid.ValidLeaseIds);
        Assert.True(await Xares.DevKit.Poll.UntilAsync(() => Task.FromResult(GitHub.RevokedTokens.Count == 1), TimeSpan.FromSeconds(10)));
        Assert.Contains("1 minted token(s) revoked", Assert.Single(await AuditAsync("github_app.delete")).GetProperty("detail").GetString(), StringComparison.Ordinal);
        // Without an app, the repository gets nothing (and the failure says why).
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAsync("https", GitHost, "acme/app.git")).ResultCase);
    }

    [Fact]
    public async Task KeysRotate_RewrapsAppKeyAndMintedToken_BothStillOpen()
    {
        await RegisterAppAsync();
        var sidecar = await WorkspaceAsync(Repo("acme/app"));
        var lease = (await sidecar.GetAsync("https", GitHost, "acme/app.git")).Lease;

        // As `xares-broker keys rotate` would, from its own process against the live database.
        var database = new Xares.Broker.Storage.Database($"Data Source={Host.DatabasePath}");
        var keyring = Xares.Broker.Vault.Keyring.LoadOrCreate(database, Xares.Broker.Vault.MasterKey.Load(null, null, Host.DataDirectory), TimeProvider.System);
        var rotation = new Xares.Broker.Vault.KeyRotation(database, keyring, new Xares.Broker.Audit.AuditChain(keyring, TimeProvider.System));
        var result = rotation.Rotate(TextWriter.Null, "test");

        Assert.Equal(2, result.Rewrapped);
        var current = Assert.Single(rotation.Status().Versions, v => v.Current);
        Assert.Equal(1, current.Usage["GitHub App keys"]);
        Assert.Equal(1, current.Usage["minted tokens"]);
        // The reused token still opens, and a new workspace's mint signs with the re-wrapped key.
        Assert.Equal(lease.Secret, (await sidecar.GetAsync("https", GitHost, "acme/app.git")).Lease.Secret);
        var other = await WorkspaceAsync(Repo("acme/app"));
        Assert.Equal(GitCredentialReply.ResultOneofCase.Lease, (await other.GetAsync("https", GitHost, "acme/app.git")).ResultCase);
        Assert.Equal(2, GitHub.Mints.Count);
    }

    [Fact]
    public async Task ListGitTargets_RepositoryScopedHost_UseHttpPath()
    {
        await RegisterAppAsync();
        var sidecar = await WorkspaceAsync(Repo("acme/app"));
        var targets = await sidecar.Grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), sidecar.Auth);
        var target = Assert.Single(targets.Targets);
        Assert.Equal($"https://{GitHost}", target.Url);
        Assert.True(target.UseHttpPath);
    }
}
