using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using Grpc.Core;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Sidecars;

public sealed class SessionTests : IAsyncLifetime
{
    private BrokerTestHost _host = null!;
    private string _userId = null!;

    public async Task InitializeAsync()
    {
        _host = await BrokerTestHost.StartAsync();
        _userId = await _host.CreateUserAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task OpenSession_BootstrapTokenUsedTwice_SecondRefused()
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _userId)).OpenAsync();
        Assert.StartsWith("xst_", sidecar.Grant!.SessionToken, StringComparison.Ordinal);

        var replay = await Assert.ThrowsAsync<RpcException>(() => sidecar.Grpc.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = sidecar.BootstrapToken }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, replay.StatusCode);
    }

    [Fact]
    public async Task OpenSession_HundredConcurrentRedemptions_ExactlyOneWins()
    {
        var sidecar = await SidecarClient.CreateWorkspaceAsync(_host, _userId);
        var attempts = Enumerable.Range(0, 100).Select(async _ =>
        {
            try
            {
                await sidecar.Grpc.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = sidecar.BootstrapToken });
                return true;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
            {
                return false;
            }
        });
        var results = await Task.WhenAll(attempts);
        Assert.Equal(1, results.Count(won => won));
    }

    [Fact]
    public async Task MintBootstrap_NewToken_InvalidatesOlderUnusedOne()
    {
        var sidecar = await SidecarClient.CreateWorkspaceAsync(_host, _userId);
        var response = await _host.Admin.PostAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}/bootstrap", null);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var old = await Assert.ThrowsAsync<RpcException>(() => sidecar.OpenAsync());
        Assert.Equal(StatusCode.Unauthenticated, old.StatusCode);
    }

    [Fact]
    public async Task RefreshSession_RotatesToken_OldTokenReplayRevokesWorkspace()
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _userId)).OpenAsync();
        var oldAuth = sidecar.Auth;
        var refreshed = await sidecar.RefreshAsync();
        Assert.NotEqual(oldAuth.GetValue("authorization"), sidecar.Auth.GetValue("authorization"));

        var replay = await Assert.ThrowsAsync<RpcException>(() => sidecar.Grpc.RefreshSessionAsync(new RefreshSessionRequest(), oldAuth).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, replay.StatusCode);

        // The new token is dead too: the workspace was revoked.
        var after = await Assert.ThrowsAsync<RpcException>(() => sidecar.GetAsync("https", "example.com"));
        Assert.Equal(StatusCode.PermissionDenied, after.StatusCode);
        var workspace = await _host.Admin.GetFromJsonAsync<WorkspaceBody>($"/api/v1/workspaces/{sidecar.WorkspaceId}");
        Assert.Equal("revoked", workspace!.Status);
        Assert.NotEqual(default, refreshed.TokenExpiresAt);
        Assert.Contains(await AuditActionsAsync(), a => a == "session.replay");
    }

    [Fact]
    public async Task RefreshSession_LostReplyRetriedWithSameKey_FreshTokenAndTheLostOneSuperseded()
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _userId)).OpenAsync();
        var oldAuth = sidecar.Auth;
        var key = Google.Protobuf.ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

        // The broker commits the refresh, but its reply never reaches the sidecar...
        var lost = await sidecar.Grpc.RefreshSessionAsync(new RefreshSessionRequest { RetryKey = key }, oldAuth);
        // ...which retries with the token it still has and the same key (twice: that reply was lost too).
        await sidecar.Grpc.RefreshSessionAsync(new RefreshSessionRequest { RetryKey = key }, oldAuth);
        var retried = await sidecar.Grpc.RefreshSessionAsync(new RefreshSessionRequest { RetryKey = key }, oldAuth);

        Assert.NotEqual(lost.SessionToken, retried.SessionToken);
        Assert.Equal(lost.SessionId, retried.SessionId);
        var retriedAuth = new Metadata { { "authorization", "Bearer " + retried.SessionToken } };
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch,
            (await sidecar.Grpc.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "example.com" }, retriedAuth)).ResultCase);
        var audit = await _host.Admin.GetStringAsync("/api/v1/audit?action=session.refresh&limit=10");
        Assert.Contains("retry of a refresh whose reply was lost", audit, StringComparison.Ordinal);

        // Rule d still holds for everything else: the token whose reply was lost, presented again, is a replay.
        var lostAuth = new Metadata { { "authorization", "Bearer " + lost.SessionToken } };
        var replay = await Assert.ThrowsAsync<RpcException>(() => sidecar.Grpc.GetGitCredentialAsync(
            new GitCredentialRequest { Protocol = "https", Host = "example.com" }, lostAuth).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, replay.StatusCode);
        Assert.Contains(await AuditActionsAsync(), a => a == "session.replay");
    }

    [Theory]
    [InlineData("other key")]
    [InlineData("no key")]
    [InlineData("short key")]
    public async Task RefreshSession_OldTokenWithoutTheRefreshsKey_IsAReplayAndRevokesWorkspace(string presented)
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _userId)).OpenAsync();
        var oldAuth = sidecar.Auth;
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        await sidecar.Grpc.RefreshSessionAsync(new RefreshSessionRequest { RetryKey = Google.Protobuf.ByteString.CopyFrom(key) }, oldAuth);

        var request = presented switch
        {
            "other key" => new RefreshSessionRequest { RetryKey = Google.Protobuf.ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) },
            "short key" => new RefreshSessionRequest { RetryKey = Google.Protobuf.ByteString.CopyFrom(key, 0, 8) },
            _ => new RefreshSessionRequest(),
        };
        var replay = await Assert.ThrowsAsync<RpcException>(() => sidecar.Grpc.RefreshSessionAsync(request, oldAuth).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, replay.StatusCode);
        var workspace = await _host.Admin.GetFromJsonAsync<WorkspaceBody>($"/api/v1/workspaces/{sidecar.WorkspaceId}");
        Assert.Equal("revoked", workspace!.Status);
    }

    [Fact]
    public async Task RefreshSession_RetryAfterTheGraceWindow_IsAReplay()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await BrokerTestHost.StartAsync(services: s => s.AddSingleton<TimeProvider>(clock));
        var user = await host.CreateUserAsync();
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, user)).OpenAsync();
        var oldAuth = sidecar.Auth;
        var key = Google.Protobuf.ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await sidecar.Grpc.RefreshSessionAsync(new RefreshSessionRequest { RetryKey = key }, oldAuth);

        clock.Advance(Xares.Broker.Sessions.SessionService.RefreshRetryGrace + TimeSpan.FromSeconds(1));
        var replay = await Assert.ThrowsAsync<RpcException>(() => sidecar.Grpc.RefreshSessionAsync(new RefreshSessionRequest { RetryKey = key }, oldAuth).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, replay.StatusCode);
    }

    [Fact]
    public async Task SidecarCalls_ValidSession_RecordNoAuthenticationFailures()
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _userId)).OpenAsync();
        await sidecar.GetAsync("https", "example.com");
        await sidecar.RefreshAsync();
        await sidecar.GetAsync("https", "example.com");

        var audit = await _host.Admin.GetStringAsync("/api/v1/audit?action=auth.failure");
        Assert.True(!audit.Contains("auth.failure", StringComparison.Ordinal), audit);
    }

    [Fact]
    public async Task AnyCall_UnknownToken_UnauthenticatedAndAudited()
    {
        var grpc = new SidecarBroker.SidecarBrokerClient(_host.GrpcChannel);
        var bogus = new Metadata { { "authorization", "Bearer xst_" + new string('A', 43) } };
        var error = await Assert.ThrowsAsync<RpcException>(() => grpc.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "h" }, bogus).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Contains(await AuditActionsAsync(), a => a == "auth.failure");
    }

    [Fact]
    public async Task Session_ExpiredToken_Refused()
    {
        await using var host = await BrokerTestHost.StartAsync(o => o with { SessionTokenLifetime = TimeSpan.FromMilliseconds(300) });
        var user = await host.CreateUserAsync();
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, user)).OpenAsync();
        await Task.Delay(600);
        var error = await Assert.ThrowsAsync<RpcException>(() => sidecar.GetAsync("https", "example.com"));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task Bootstrap_ExpiredToken_Refused()
    {
        await using var host = await BrokerTestHost.StartAsync(o => o with { BootstrapTokenLifetime = TimeSpan.FromMilliseconds(200) });
        var user = await host.CreateUserAsync();
        var sidecar = await SidecarClient.CreateWorkspaceAsync(host, user);
        await Task.Delay(400);
        var error = await Assert.ThrowsAsync<RpcException>(() => sidecar.OpenAsync());
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task DeleteWorkspace_LiveSession_GetsNothingMore()
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _userId)).OpenAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await _host.Admin.DeleteAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}")).StatusCode);
        var error = await Assert.ThrowsAsync<RpcException>(() => sidecar.GetAsync("https", "example.com"));
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    private async Task<List<string>> AuditActionsAsync()
    {
        var audit = await _host.Admin.GetFromJsonAsync<AuditPage>("/api/v1/audit?limit=1000");
        return audit!.Items.Select(i => i.Action).ToList();
    }

    private sealed record WorkspaceBody(string Id, string Status);

    private sealed record AuditPage(List<AuditItem> Items);

    private sealed record AuditItem(string Action, string Outcome);
}
