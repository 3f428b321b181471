using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Xares.Broker.Audit;
using Xares.Broker.Tests.Credentials;
using Xares.Protos.Broker.V1;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Audit;

/// <summary>
/// Every detector raises its flag through the real broker on real sockets (REST and gRPC from
/// distinct loopback addresses), the background scanner finds them, and GET /api/v1/audit/flags and
/// the acknowledgement obey scopes and user-bound keys.
/// </summary>
public sealed class AuditFlagsEndpointsTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private SocketBroker _broker = null!;
    private HttpClient _admin = null!;
    private string _alice = "";
    private string _bob = "";

    public async Task InitializeAsync()
    {
        _broker = await SocketBroker.StartAsync(o => o with
        {
            // Failed logins are audited in aggregate per window: a short one writes the count in time for the scan.
            AuthFailureAuditWindow = TimeSpan.FromMilliseconds(200),
            Audit = new AuditSettings
            {
                Flags = new AuditFlagThresholds { ScanInterval = TimeSpan.FromMilliseconds(200), LeaseRateFloor = 3, Rejections = 2, AuthFailures = 4 },
            },
        });
        _admin = _broker.Rest(_broker.AdminKey);
        _alice = await _broker.CreateUserAsync("alice");
        _bob = await _broker.CreateUserAsync("bob");
    }

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Flags_EachDetectorThroughTheRealBroker_AreListedAndScopedToTheKeysUser()
    {
        (await _admin.PostAsJsonAsync($"/api/v1/users/{_alice}/credentials",
            new { kind = "git", provider = "github", url = "https://github.com/acme", username = "alice", secret = "ghp_flagtestsecret000000000000000000000" })).EnsureSuccessStatusCode();

        // (a) five leases in a workspace with no history, above the floor of 3.
        var aliceWs = await OpenSessionAsync(_alice, "127.0.0.1");
        var leases = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            leases.Add((await aliceWs.Client.GetGitCredentialAsync(GitRequest, aliceWs.Auth)).Lease.LeaseId);
        }
        // (c) git rejected the secret of two leases.
        foreach (var lease in leases.Take(2))
        {
            await aliceWs.Client.ReportRejectionAsync(new ReportRejectionRequest { LeaseId = lease }, aliceWs.Auth);
        }
        // (b) the same workspace asks from another address.
        var moved = new SidecarBroker.SidecarBrokerClient(_broker.Grpc("127.0.0.2"));
        Assert.NotNull((await moved.GetGitCredentialAsync(GitRequest, aliceWs.Auth)).Lease);
        // (b) for bob: a refresh from a new address.
        var bobWs = await OpenSessionAsync(_bob, "127.0.0.1");
        await new SidecarBroker.SidecarBrokerClient(_broker.Grpc("127.0.0.3")).RefreshSessionAsync(new RefreshSessionRequest(), bobWs.Auth);
        // (d) a burst of failed authentications from one client.
        var intruder = _broker.Rest("xar_notarealkey0000000000000000000000000000000", from: "127.0.0.4");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(401, (int)(await intruder.GetAsync("/api/v1/users")).StatusCode);
        }

        var flags = await WaitForFlagsAsync(5);

        Assert.Contains(flags, f => f is { Kind: AuditFlagKinds.LeaseRate } && f.UserId == _alice && f.WorkspaceId == aliceWs.WorkspaceId);
        Assert.Contains(flags, f => f is { Kind: AuditFlagKinds.RepeatedRejections } && f.UserId == _alice && f.CredentialId is not null);
        Assert.Contains(flags, f => f is { Kind: AuditFlagKinds.NewAddress, RemoteAddress: "127.0.0.2" } && f.WorkspaceId == aliceWs.WorkspaceId);
        Assert.Contains(flags, f => f is { Kind: AuditFlagKinds.NewAddress, RemoteAddress: "127.0.0.3" } && f.UserId == _bob);
        Assert.Contains(flags, f => f is { Kind: AuditFlagKinds.AuthFailures, RemoteAddress: "127.0.0.4", UserId: null });

        // A key bound to alice sees alice's flags only; bob's are "not found", even by id.
        var aliceKey = _broker.Rest(await CreateKeyAsync(["audit:read"], _alice));
        var own = await ListAsync(aliceKey, "");
        Assert.Equal(3, own.Count);
        Assert.All(own, f => Assert.Equal(_alice, f.UserId));
        await (await aliceKey.GetAsync($"/api/v1/audit/flags?userId={_bob}")).ProblemAsync(404, "not-found");
        var bobsFlag = flags.Single(f => f.UserId == _bob);
        await (await aliceKey.PostAsync($"/api/v1/audit/flags/{bobsFlag.Id}/ack", null)).ProblemAsync(404, "not-found");
        var intruderFlag = flags.Single(f => f.Kind == AuditFlagKinds.AuthFailures);
        await (await aliceKey.PostAsync($"/api/v1/audit/flags/{intruderFlag.Id}/ack", null)).ProblemAsync(404, "not-found");

        var acked = await (await aliceKey.PostAsync($"/api/v1/audit/flags/{own[0].Id}/ack", null)).JsonAsync(200);
        Assert.False(string.IsNullOrEmpty(acked.GetProperty("acknowledgedAt").GetString()));
        var again = await (await aliceKey.PostAsync($"/api/v1/audit/flags/{own[0].Id}/ack", null)).JsonAsync(200);
        Assert.Equal(acked.GetProperty("acknowledgedAt").GetString(), again.GetProperty("acknowledgedAt").GetString());
        await (await _admin.PostAsync("/api/v1/audit/flags/flag_nosuchflag/ack", null)).ProblemAsync(404, "not-found");
        var acks = await (await _admin.GetAsync("/api/v1/audit?action=audit.flag.ack")).JsonAsync(200);
        Assert.Equal(1, acks.GetProperty("items").GetArrayLength());

        // Scopes: an under-scoped key is refused, no key is unauthenticated.
        var workspacesOnly = _broker.Rest(await CreateKeyAsync(["workspaces:read"], null));
        Assert.Equal(403, (int)(await workspacesOnly.GetAsync("/api/v1/audit/flags")).StatusCode);
        Assert.Equal(401, (int)(await _broker.Rest(null).GetAsync("/api/v1/audit/flags")).StatusCode);
    }

    [Fact]
    public async Task Flags_Listing_PagesWithACursorAndFilters()
    {
        var intruder = _broker.Rest("xar_notarealkey0000000000000000000000000000000", from: "127.0.0.5");
        for (var i = 0; i < 4; i++)
        {
            await intruder.GetAsync("/api/v1/users");
        }
        var ws = await OpenSessionAsync(_alice, "127.0.0.1");
        await new SidecarBroker.SidecarBrokerClient(_broker.Grpc("127.0.0.6")).RefreshSessionAsync(new RefreshSessionRequest(), ws.Auth);
        await WaitForFlagsAsync(2);

        var first = await (await _admin.GetAsync("/api/v1/audit/flags?limit=1")).JsonAsync(200);
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await (await _admin.GetAsync($"/api/v1/audit/flags?limit=1&cursor={cursor}")).JsonAsync(200);
        var byWorkspace = await ListAsync(_admin, $"?workspaceId={ws.WorkspaceId}");

        Assert.NotEqual(first.GetProperty("items")[0].GetProperty("id").GetString(), second.GetProperty("items")[0].GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
        Assert.Equal(AuditFlagKinds.NewAddress, Assert.Single(byWorkspace).Kind);
        Assert.Empty(await ListAsync(_admin, "?since=2999-01-01T00:00:00Z"));
        await (await _admin.GetAsync("/api/v1/audit/flags?cursor=not-a-cursor")).ProblemAsync(400);
        await (await _admin.GetAsync("/api/v1/audit/flags?limit=0")).ProblemAsync(400);
    }

    private static GitCredentialRequest GitRequest => new() { Protocol = "https", Host = "github.com", Path = "acme/repo.git" };

    private async Task<Workspace> OpenSessionAsync(string userId, string from)
    {
        var created = await (await _admin.PostAsJsonAsync("/api/v1/workspaces", new { userId, name = "ws" })).JsonAsync(201);
        var client = new SidecarBroker.SidecarBrokerClient(_broker.Grpc(from));
        var grant = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = created.GetProperty("bootstrapToken").GetString() });
        return new Workspace(created.GetProperty("id").GetString()!, client, grant);
    }

    private async Task<string> CreateKeyAsync(string[] scopes, string? userId)
    {
        var created = await (await _admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "flags", scopes, userId })).JsonAsync(201);
        return created.GetProperty("key").GetString()!;
    }

    private async Task<List<Flag>> WaitForFlagsAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var flags = await ListAsync(_admin, "");
            if (flags.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.True(flags.Count >= count, $"expected {count} flags, found: {string.Join(", ", flags.Select(f => f.Kind))}");
                return flags;
            }
            await Task.Delay(100);
        }
    }

    private static async Task<List<Flag>> ListAsync(HttpClient client, string query)
    {
        var page = await (await client.GetAsync($"/api/v1/audit/flags{query}")).JsonAsync(200);
        return page.GetProperty("items").Deserialize<List<Flag>>(Json)!;
    }

    private sealed record Workspace(string WorkspaceId, SidecarBroker.SidecarBrokerClient Client, SessionGrant Grant)
    {
        public Metadata Auth => new() { { "authorization", $"Bearer {Grant.SessionToken}" } };
    }

    private sealed record Flag(string Id, string Kind, string? UserId, string? WorkspaceId, string? CredentialId, string? RemoteAddress, string Detail);
}
