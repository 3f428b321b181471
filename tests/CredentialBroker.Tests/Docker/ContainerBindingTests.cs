using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;
using Xares.Broker.Docker;
using Xares.Broker.Sessions;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Docker;

/// <summary>The workspace side of the Docker watcher, on a whole broker whose Docker client is a substitute.</summary>
public sealed class ContainerBindingTests : IAsyncLifetime
{
    private readonly string _claimKeyFile = Path.GetTempFileName();
    private BrokerTestHost _host = null!;
    private ContainerBinding _binding = null!;

    public async Task InitializeAsync()
    {
        var docker = SubstituteEngine.Quiet();
        File.WriteAllText(_claimKeyFile, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        _host = await BrokerTestHost.StartAsync(o => o with { DockerEngines = [DockerEndpoint.Unix("unix:///nonexistent/docker.sock")], DockerClaimKeyFile = _claimKeyFile },
            s => s.AddKeyedSingleton(DockerEndpoint.DefaultName, docker));
        _binding = _host.Get<ContainerBinding>();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        File.Delete(_claimKeyFile);
    }

    [Fact]
    public async Task ClaimAndMint_SignedClaim_CreatesTheWorkspaceBoundToTheFirstContainerOnly()
    {
        var userId = await _host.CreateUserAsync("claimer");
        var claim = NewClaim(userId, hosts: ["github.com"]);
        var label = _host.Get<WorkspaceClaims>().Sign(claim);

        var grant = await _binding.ClaimAndMintAsync(On("c1"), label, "container started");

        Assert.NotNull(grant);
        Assert.Equal(claim.WorkspaceId, grant.WorkspaceId);
        Assert.NotNull(await _host.Get<SessionService>().OpenAsync(grant.Token, null));
        var workspace = await WorkspaceAsync(claim.WorkspaceId);
        Assert.Equal(userId, workspace.GetProperty("userId").GetString());
        Assert.Equal("claimed", workspace.GetProperty("name").GetString());
        Assert.Equal(["github.com"], workspace.GetProperty("allowedHosts").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal("c1", workspace.GetProperty("containerId").GetString());
        Assert.Contains(await AuditDetailsAsync("workspace.create", "success"), d => d.Contains($"signed claim {claim.Id}", StringComparison.Ordinal));

        // The label copied onto another container is refused; the same container (restarted) is bound again.
        Assert.Null(await _binding.ClaimAndMintAsync(On("c2"), label, "container started"));
        Assert.NotNull(await _binding.ClaimAndMintAsync(On("c1"), label, "container restarted"));
        Assert.Contains(await AuditDetailsAsync("docker.bind", "denied"), d => d.Contains("c2 refused", StringComparison.Ordinal));
        Assert.Single((await _host.Admin.GetFromJsonAsync<JsonElement>("/api/v1/workspaces")).GetProperty("items").EnumerateArray(),
            w => w.GetProperty("id").GetString() == claim.WorkspaceId);
    }

    [Fact]
    public async Task ClaimAndMint_ExpiredUnknownUserForgedOrRemoved_RefusedAndAudited()
    {
        var userId = await _host.CreateUserAsync("claimer2");
        var claims = _host.Get<WorkspaceClaims>();
        var expired = NewClaim(userId) with { ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1) };
        var unknownUser = NewClaim("usr_nobody");
        var forged = new WorkspaceClaims(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).Sign(NewClaim(userId));
        var removed = NewClaim(userId);
        Assert.NotNull(await _binding.ClaimAndMintAsync(On("c9"), claims.Sign(removed), "container started"));
        Assert.Equal(removed.WorkspaceId, await _binding.ContainerRemovedAsync(On("c9"), "removed"));

        Assert.Null(await _binding.ClaimAndMintAsync(On("c3"), claims.Sign(expired), "container started"));
        Assert.Null(await _binding.ClaimAndMintAsync(On("c4"), claims.Sign(unknownUser), "container started"));
        Assert.Null(await _binding.ClaimAndMintAsync(On("c5"), forged, "container started"));
        Assert.Null(await _binding.ClaimAndMintAsync(On("c6"), "v1.garbage", "container started"));
        Assert.Null(await _binding.ClaimAndMintAsync(On("c9"), claims.Sign(removed), "container started again"));

        var denied = await AuditDetailsAsync("docker.bind", "denied");
        Assert.Contains(denied, d => d.Contains($"claim {expired.Id} expired", StringComparison.Ordinal));
        Assert.Contains(denied, d => d.Contains("names unknown user 'usr_nobody'", StringComparison.Ordinal));
        Assert.Contains(denied, d => d.Contains("c5 refused", StringComparison.Ordinal) && d.Contains("signature", StringComparison.Ordinal));
        Assert.Contains(denied, d => d.Contains("c6 refused", StringComparison.Ordinal) && d.Contains("well-formed", StringComparison.Ordinal));
        Assert.Contains(denied, d => d.Contains($"revoked workspace {removed.WorkspaceId}", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.GetAsync($"/api/v1/workspaces/{expired.WorkspaceId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.GetAsync($"/api/v1/workspaces/{unknownUser.WorkspaceId}")).StatusCode);
    }

    [Fact]
    public async Task ClaimAndMint_SameClaimIdForAnotherUser_RefusedAndAuditedToTheWorkspaceOwner()
    {
        var (owner, other) = (await _host.CreateUserAsync("owner"), await _host.CreateUserAsync("other"));
        var claims = _host.Get<WorkspaceClaims>();
        var owned = NewClaim(owner);
        Assert.NotNull(await _binding.ClaimAndMintAsync(On("c20"), claims.Sign(owned), "container started"));

        Assert.Null(await _binding.ClaimAndMintAsync(On("c21"), claims.Sign(owned with { UserId = other }), "container started"));

        var audit = await _host.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/audit?action=docker.bind&workspaceId={owned.WorkspaceId}");
        var denied = Assert.Single(audit.GetProperty("items").EnumerateArray(), r => r.GetProperty("outcome").GetString() == "denied");
        Assert.Equal(owner, denied.GetProperty("userId").GetString());
        Assert.Contains($"names user '{other}', its workspace belongs to another", denied.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(owner, (await WorkspaceAsync(owned.WorkspaceId)).GetProperty("userId").GetString());
    }

    private static WorkspaceClaim NewClaim(string userId, IReadOnlyList<string>? hosts = null) =>
        new("claim-" + Guid.NewGuid().ToString("N"), userId, "claimed", hosts, DateTimeOffset.UtcNow.AddMinutes(10));

    [Fact]
    public async Task BindAndMint_FirstContainer_BindsAndMintsRedeemableToken()
    {
        var workspaceId = await CreateWorkspaceAsync();

        var grant = await _binding.BindAndMintAsync(On("c1"), workspaceId, "container started");

        Assert.NotNull(grant);
        Assert.StartsWith("xbt_", grant.Token, StringComparison.Ordinal);
        Assert.DoesNotContain(grant.Token, grant.ToString(), StringComparison.Ordinal);
        Assert.NotNull(await _host.Get<SessionService>().OpenAsync(grant.Token, null));
        var workspace = await WorkspaceAsync(workspaceId);
        Assert.Equal("c1", workspace.GetProperty("containerId").GetString());
        Assert.Equal("starting", workspace.GetProperty("containerState").GetString());
    }

    [Fact]
    public async Task BindAndMint_SecondContainer_RefusedAndAudited()
    {
        var workspaceId = await CreateWorkspaceAsync();
        await _binding.BindAndMintAsync(On("c1"), workspaceId, "container started");

        Assert.Null(await _binding.BindAndMintAsync(On("c2"), workspaceId, "container started"));
        Assert.NotNull(await _binding.BindAndMintAsync(On("c1"), workspaceId, "container restarted"));

        var denied = await AuditDetailsAsync("docker.bind", "denied");
        Assert.Contains(denied, d => d.Contains("c2 refused", StringComparison.Ordinal) && d.Contains(workspaceId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task BindAndMint_UnregisteredOrRevokedWorkspace_RefusedAndAudited()
    {
        var revoked = await CreateWorkspaceAsync();
        (await _host.Admin.DeleteAsync($"/api/v1/workspaces/{revoked}")).EnsureSuccessStatusCode();

        Assert.Null(await _binding.BindAndMintAsync(On("c1"), "ws_nobody registered\nthis", "container started"));
        Assert.Null(await _binding.BindAndMintAsync(On("c2"), revoked, "container started"));

        var denied = await AuditDetailsAsync("docker.bind", "denied");
        Assert.Contains(denied, d => d.Contains("unregistered workspace 'ws_nobody?registered?this'", StringComparison.Ordinal));
        Assert.Contains(denied, d => d.Contains("revoked workspace", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ContainerStopped_EndsSessionsAndLaterStartReBootstraps()
    {
        var workspaceId = await CreateWorkspaceAsync();
        var grant = await _binding.BindAndMintAsync(On("c1"), workspaceId, "container started");
        await _host.Get<SessionService>().OpenAsync(grant!.Token, null);

        Assert.Equal(workspaceId, await _binding.ContainerStoppedAsync(On("c1"), "stopped (exit code 0)"));

        var workspace = await WorkspaceAsync(workspaceId);
        Assert.Empty(workspace.GetProperty("activeSessions").EnumerateArray());
        Assert.Equal("active", workspace.GetProperty("status").GetString());
        Assert.Equal("stopped", workspace.GetProperty("containerState").GetString());
        Assert.NotNull(await _binding.BindAndMintAsync(On("c1"), workspaceId, "container started"));
    }

    [Fact]
    public async Task ContainerStopped_SessionEventEndsTheSessionsRevocationStream()
    {
        var workspaceId = await CreateWorkspaceAsync();
        var grant = await _binding.BindAndMintAsync(On("c1"), workspaceId, "container started");
        var sidecar = await new SidecarClient(_host, workspaceId, grant!.Token).OpenAsync();
        using var stream = await Revocations.SessionEndStreamTests.WatchAsync(sidecar);

        await _binding.ContainerStoppedAsync(On("c1"), "stopped (exit code 0)");

        await Revocations.SessionEndStreamTests.AssertEndsWithAsync(stream, Xares.Protos.Broker.V1.RevocationEvent.Types.Kind.Session, sidecar.Grant!.SessionId);
    }

    [Fact]
    public async Task ContainerRemoved_RevokesWorkspace()
    {
        var workspaceId = await CreateWorkspaceAsync();
        await _binding.BindAndMintAsync(On("c1"), workspaceId, "container started");

        Assert.Equal(workspaceId, await _binding.ContainerRemovedAsync(On("c1"), "removed"));

        Assert.Equal("revoked", (await WorkspaceAsync(workspaceId)).GetProperty("status").GetString());
        Assert.Null(await _binding.ContainerRemovedAsync(On("c1"), "removed"));
    }

    [Fact]
    public async Task RecordDelivery_Failed_ShowsWorkspaceFailing()
    {
        var workspaceId = await CreateWorkspaceAsync();
        await _binding.BindAndMintAsync(On("c1"), workspaceId, "container started");

        await _binding.RecordDeliveryAsync(workspaceId, On("c1"), delivered: false, "bootstrap failed twice: no session");

        Assert.Equal("failing", (await WorkspaceAsync(workspaceId)).GetProperty("status").GetString());
        Assert.Contains(await AuditDetailsAsync("docker.bootstrap", "failure"), d => d.Contains("no session", StringComparison.Ordinal));
    }

    private Task<string> CreateWorkspaceAsync() => CreateWorkspaceAsync(_host);

    private Task<JsonElement> WorkspaceAsync(string id) => WorkspaceAsync(_host, id);

    /// <summary>A new workspace of a new user, through REST.</summary>
    internal static async Task<string> CreateWorkspaceAsync(BrokerTestHost host)
    {
        var userId = await host.CreateUserAsync("u" + Guid.NewGuid().ToString("N")[..8]);
        var response = await host.Admin.PostAsJsonAsync("/api/v1/workspaces", new { userId, name = "w" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    internal static async Task<JsonElement> WorkspaceAsync(BrokerTestHost host, string id) =>
        await host.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/workspaces/{id}");

    private async Task<List<string>> AuditDetailsAsync(string action, string outcome)
    {
        var body = await _host.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/audit?action={action}&limit=100");
        return [.. body.GetProperty("items").EnumerateArray()
            .Where(a => a.GetProperty("outcome").GetString() == outcome)
            .Select(a => a.GetProperty("detail").GetString() ?? "")];
    }

    private static ContainerRef On(string id) => new(DockerEndpoint.DefaultName, id);
}
