using System.Globalization;
using System.Net;
using System.Text.Json;
using Xares.Protos.Broker.V1;

namespace Xares.EndToEnd.Tests.Connections;

/// <summary>
/// What goes wrong with a provider, against the real oidc-provider: an unreachable endpoint, a
/// device code that expires, a user who denies, slow_down, a refresh token the provider no longer
/// accepts (invalid_grant), and a token endpoint failing transiently. Each ends in a clear status
/// or error, and nothing is stored half-done.
/// </summary>
public sealed class OAuthFailureTests(OAuthFixture fixture) : IClassFixture<OAuthFixture>
{
    [Fact]
    public async Task UnreachableDeviceEndpoint_502Problem_NothingStored()
    {
        var userId = await fixture.Admin.CreateUserAsync(fixture.NextName("u"));
        var port = FreePort.Next();
        await fixture.Admin.SendAsync(HttpMethod.Post, "api/v1/oauth-providers", new
        {
            name = "dead-idp", kind = "generic", tokenUrl = $"http://127.0.0.1:{port}/token", deviceAuthorizationUrl = $"http://127.0.0.1:{port}/device",
            clientId = "xares", clientSecret = "not-a-real-secret-123", gitUrl = "https://dead.example.com",
        });

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() =>
            fixture.Admin.SendAsync(HttpMethod.Post, $"api/v1/users/{userId}/connections", new { providerId = "dead-idp" }));

        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Contains("could not be reached", refused.Message);
        Assert.Contains("\"status\":502", refused.Message);
        Assert.DoesNotContain("not-a-real-secret-123", refused.Message);
        Assert.Empty(AdminClient.ItemsOf(await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/users/{userId}/connections")));
        var audit = await fixture.Admin.QueryAuditAsync(userId: userId, action: "connection.device_start");
        Assert.Equal("failure", Assert.Single(audit).GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task UnreachableTokenEndpoint_KeepsPollingUntilTheCodeExpires_NoTokenStored()
    {
        var userId = await fixture.Admin.CreateUserAsync(fixture.NextName("u"));
        await OAuthFixture.RegisterProviderAsync(fixture.Admin, fixture.Idp, "deadtoken-idp", "https://deadtoken.example.com",
            tokenUrl: $"http://127.0.0.1:{FreePort.Next()}/token");
        await fixture.Idp.SetDeviceCodeLifetimeAsync(4);
        try
        {
            var started = await fixture.Admin.SendAsync(HttpMethod.Post, $"api/v1/users/{userId}/connections", new { providerId = "deadtoken-idp" });
            await fixture.Idp.ApproveAsync(started.GetProperty("userCode").GetString()!);
            var ended = await OAuthFixture.WaitForStatusAsync(fixture.Admin, AdminClient.IdOf(started), "expired", TimeSpan.FromSeconds(20));
            Assert.False(ended.GetProperty("hasRefreshToken").GetBoolean());
            Assert.Equal(JsonValueKind.Null, ended.GetProperty("accessTokenExpiresAt").ValueKind);
        }
        finally
        {
            await fixture.Idp.SetDeviceCodeLifetimeAsync(600);
        }
    }

    [Fact]
    public async Task DeviceCodeExpires_StatusExpired_NoTokenStored()
    {
        var userId = await fixture.Admin.CreateUserAsync(fixture.NextName("u"));
        var provider = await OAuthFixture.RegisterProviderAsync(fixture.Admin, fixture.Idp, "short-idp", "https://short.example.com");
        await fixture.Idp.SetDeviceCodeLifetimeAsync(3);
        try
        {
            var started = await fixture.Admin.SendAsync(HttpMethod.Post, $"api/v1/users/{userId}/connections", new { providerId = AdminClient.IdOf(provider) });
            var ended = await OAuthFixture.WaitForStatusAsync(fixture.Admin, AdminClient.IdOf(started), "expired", TimeSpan.FromSeconds(15));
            Assert.False(ended.GetProperty("hasRefreshToken").GetBoolean());
            Assert.Equal(JsonValueKind.Null, ended.GetProperty("userCode").ValueKind);
            var audit = await fixture.Admin.QueryAuditAsync(credentialId: AdminClient.IdOf(started), action: "connection.connect");
            Assert.Equal("failure", Assert.Single(audit).GetProperty("outcome").GetString());
        }
        finally
        {
            await fixture.Idp.SetDeviceCodeLifetimeAsync(600);
        }
    }

    [Fact]
    public async Task UserDenies_StatusDenied_SidecarConnectExitsNonZero()
    {
        var userId = await fixture.Admin.CreateUserAsync(fixture.NextName("u"));
        var name = fixture.NextName("ws");
        var workspace = await fixture.Admin.CreateWorkspaceAsync(userId, name);
        await using var sidecar = await SidecarProcess.StartAsync(fixture.Directory, fixture.Broker.GrpcUrl, workspace.BootstrapToken, name + "-sc");
        var git = GitWorkspace.Create(fixture.Directory, sidecar.SocketPath, name);

        var connect = git.RunAsync(Artifacts.Sidecar, ["connect", OAuthFixture.ProviderName], timeout: TimeSpan.FromSeconds(30));
        JsonElement pending = default;
        Assert.True(await Poll.UntilAsync(async () =>
        {
            var items = AdminClient.ItemsOf(await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/users/{userId}/connections"));
            pending = items.Count > 0 ? items[0] : default;
            return items.Count > 0;
        }, TimeSpan.FromSeconds(15)));
        await fixture.Idp.DenyAsync(pending.GetProperty("userCode").GetString()!);

        var result = await connect;
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("denied", result.Stderr);
        var ended = await OAuthFixture.WaitForStatusAsync(fixture.Admin, AdminClient.IdOf(pending), "denied");
        Assert.False(ended.GetProperty("hasRefreshToken").GetBoolean());
    }

    [Fact]
    public async Task SlowDown_PollIntervalGrowsByFiveSeconds_ThenConnects()
    {
        var userId = await fixture.Admin.CreateUserAsync(fixture.NextName("u"));
        await fixture.Idp.FaultAsync(tokenSlowDown: 1);
        var started = await fixture.Admin.SendAsync(HttpMethod.Post, $"api/v1/users/{userId}/connections", new { providerId = OAuthFixture.ProviderName });
        var id = AdminClient.IdOf(started);
        Assert.Equal(1, started.GetProperty("interval").GetInt32());
        Assert.True(await Poll.UntilAsync(async () =>
            (await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{id}")).GetProperty("interval").GetInt32() == 6, TimeSpan.FromSeconds(10)));
        await fixture.Idp.ApproveAsync(started.GetProperty("userCode").GetString()!);
        await OAuthFixture.WaitForStatusAsync(fixture.Admin, id, "active", TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task InvalidGrant_ReconnectRequired_FlaggedAudited_NoFurtherRefreshAttempts_ReconnectWorks()
    {
        var (userId, connectionId, clients, auth, host) = await ConnectedAsync();
        await fixture.Idp.RevokeAllGrantsAsync();
        await WaitForExpiryAsync(connectionId);
        var before = (await fixture.Idp.CountersAsync()).GetProperty("refreshError").GetInt32();

        var reply = await clients.GetGitCredentialAsync(new GitCredentialRequest { Protocol = host.Scheme, Host = host.Authority, Path = "acme/app.git" }, auth);
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, reply.ResultCase);
        var connection = await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{connectionId}");
        Assert.Equal("reconnect_required", connection.GetProperty("status").GetString());
        Assert.Contains("invalid_grant", connection.GetProperty("lastError").GetString());
        Assert.Equal(before + 1, (await fixture.Idp.CountersAsync()).GetProperty("refreshError").GetInt32());
        Assert.Single(await fixture.Admin.QueryAuditAsync(credentialId: connectionId, action: "connection.reconnect_required"));
        var flags = AdminClient.ItemsOf(await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/audit/flags?userId={userId}"));
        Assert.Contains(flags, f => f.GetProperty("kind").GetString() == "reconnect_required");

        // Further fills do not reach the provider.
        var requests = (await fixture.Idp.CountersAsync()).GetProperty("tokenRequests").GetInt32();
        await clients.GetGitCredentialAsync(new GitCredentialRequest { Protocol = host.Scheme, Host = host.Authority, Path = "acme/app.git" }, auth);
        Assert.Equal(requests, (await fixture.Idp.CountersAsync()).GetProperty("tokenRequests").GetInt32());

        // Connecting again replaces it.
        var fresh = await OAuthFixture.ConnectAsync(fixture.Admin, fixture.Idp, userId, OAuthFixture.ProviderName);
        var after = await clients.GetGitCredentialAsync(new GitCredentialRequest { Protocol = host.Scheme, Host = host.Authority, Path = "acme/app.git" }, auth);
        Assert.Equal(GitCredentialReply.ResultOneofCase.Lease, after.ResultCase);
        Assert.Equal(fresh, after.Lease.CredentialId);
        var gone = await Assert.ThrowsAsync<HttpRequestException>(() => fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{connectionId}"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task TransientRefreshFailures_RefreshTokenKept_BacksOff_ThenRefreshes()
    {
        var (_, connectionId, clients, auth, host) = await ConnectedAsync();
        await WaitForExpiryAsync(connectionId);
        await fixture.Idp.FaultAsync(token500: 3);
        var request = new GitCredentialRequest { Protocol = host.Scheme, Host = host.Authority, Path = "acme/app.git" };
        var requests = (await fixture.Idp.CountersAsync()).GetProperty("tokenRequests").GetInt32();

        var failed = await clients.GetGitCredentialAsync(request, auth);
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, failed.ResultCase);
        Assert.Equal(requests + 3, (await fixture.Idp.CountersAsync()).GetProperty("tokenRequests").GetInt32());
        var connection = await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{connectionId}");
        Assert.Equal("active", connection.GetProperty("status").GetString());
        Assert.True(connection.GetProperty("hasRefreshToken").GetBoolean());
        Assert.Contains("HTTP 500", connection.GetProperty("lastError").GetString());

        // Backing off: the next fill does not reach the provider.
        await clients.GetGitCredentialAsync(request, auth);
        Assert.Equal(requests + 3, (await fixture.Idp.CountersAsync()).GetProperty("tokenRequests").GetInt32());

        // After the backoff the kept refresh token works.
        GitCredentialReply? lease = null;
        Assert.True(await Poll.UntilAsync(async () =>
            (lease = await clients.GetGitCredentialAsync(request, auth)).ResultCase == GitCredentialReply.ResultOneofCase.Lease, TimeSpan.FromSeconds(15),
            TimeSpan.FromSeconds(1)));
        Assert.True(await fixture.Idp.IsActiveAsync(lease!.Lease.Secret));
    }

    private async Task<(string UserId, string ConnectionId, SidecarBroker.SidecarBrokerClient Client, Grpc.Core.Metadata Auth, Uri Host)> ConnectedAsync()
    {
        var userId = await fixture.Admin.CreateUserAsync(fixture.NextName("u"));
        var connectionId = await OAuthFixture.ConnectAsync(fixture.Admin, fixture.Idp, userId, OAuthFixture.ProviderName);
        var grant = await fixture.Admin.CreateWorkspaceAsync(userId, fixture.NextName("w"));
        var channel = Grpc.Net.Client.GrpcChannel.ForAddress(fixture.Broker.GrpcUrl);
        var client = new SidecarBroker.SidecarBrokerClient(channel);
        var session = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = grant.BootstrapToken });
        return (userId, connectionId, client, new Grpc.Core.Metadata { { "authorization", "Bearer " + session.SessionToken } }, new Uri(fixture.GitServer.BaseUrl));
    }

    private async Task WaitForExpiryAsync(string connectionId)
    {
        var connection = await fixture.Admin.SendAsync(HttpMethod.Get, $"api/v1/connections/{connectionId}");
        var expires = DateTimeOffset.Parse(connection.GetProperty("accessTokenExpiresAt").GetString()!, CultureInfo.InvariantCulture);
        var wait = expires - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(100);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }
}
