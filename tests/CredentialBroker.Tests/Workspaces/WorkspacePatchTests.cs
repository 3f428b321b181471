using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Sidecars;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Workspaces;

public sealed class WorkspacePatchTests : BrokerWithAliceTests
{
    [Fact]
    public async Task Patch_Name_RenamesKeepsPolicyAndAudits()
    {
        var sidecar = await SidecarClient.CreateWorkspaceAsync(Host, Alice, ["git.a.test"]);

        var body = await (await Host.Admin.PatchJsonAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}", new { name = "  renamed  " })).JsonAsync(200);

        Assert.Equal("renamed", body.Str("name"));
        Assert.Equal(["git.a.test"], body.GetProperty("allowedHosts").EnumerateArray().Select(h => h.GetString()));
        var listed = await (await Host.Admin.GetAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}")).JsonAsync(200);
        Assert.Equal("renamed", listed.Str("name"));
        var audit = await UpdateDetailsAsync(sidecar.WorkspaceId);
        Assert.Equal(["name \"ws\" -> \"renamed\"; no lease revoked"], audit);
    }

    [Fact]
    public async Task Patch_NarrowAllowedHosts_RevokesOnlyLeasesForExcludedHostsAndPushesThem()
    {
        await Host.CreateGitCredentialAsync(Alice, "https://git.a.test", "alice", "secret-aaaaaaaaaaaa");
        await Host.CreateGitCredentialAsync(Alice, "https://git.b.test", "alice", "secret-bbbbbbbbbbbb");
        await Host.CreateAiCredentialAsync(Alice, "openai", "sk-narrow-cccccccccccc");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var kept = (await sidecar.GetAsync("https", "git.a.test")).Lease.LeaseId;
        var gitB = (await sidecar.GetAsync("https", "git.b.test")).Lease.LeaseId;
        var ai = (await sidecar.GetAiAsync("openai")).Lease.LeaseId;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var stream = sidecar.Grpc.WatchRevocations(new WatchRevocationsRequest { AfterSequence = sidecar.Grant!.RevocationSequence }, sidecar.Auth,
            cancellationToken: cts.Token);

        var body = await (await Host.Admin.PatchJsonAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}", new { allowedHosts = new[] { "*.a.test" } })).JsonAsync(200);

        Assert.Equal(["*.a.test"], body.GetProperty("allowedHosts").EnumerateArray().Select(h => h.GetString()));
        var pushed = new List<string>();
        while (pushed.Count < 2 && await stream.ResponseStream.MoveNext(cts.Token))
        {
            Assert.Equal(RevocationEvent.Types.Kind.Lease, stream.ResponseStream.Current.Kind);
            pushed.Add(stream.ResponseStream.Current.TargetId);
        }
        Assert.Equal(new[] { ai, gitB }.Order(StringComparer.Ordinal), pushed.Order(StringComparer.Ordinal));
        var valid = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { kept, gitB, ai } }, sidecar.Auth);
        Assert.Equal([kept], valid.ValidLeaseIds);
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAsync("https", "git.b.test")).ResultCase);
        Assert.Equal(GitCredentialReply.ResultOneofCase.Lease, (await sidecar.GetAsync("https", "git.a.test")).ResultCase);
        var audit = string.Join('\n', await UpdateDetailsAsync(sidecar.WorkspaceId));
        Assert.Contains("allowed hosts (all hosts) -> [*.a.test]; revoked 2 lease(s)", audit, StringComparison.Ordinal);
        Assert.Contains(gitB, audit, StringComparison.Ordinal);
        Assert.Contains(ai, audit, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-narrow", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Patch_WidenAllowedHosts_RevokesNothingAndAllowsTheNewHost()
    {
        await Host.CreateGitCredentialAsync(Alice, "https://git.a.test", "alice", "secret-aaaaaaaaaaaa");
        await Host.CreateGitCredentialAsync(Alice, "https://git.b.test", "alice", "secret-bbbbbbbbbbbb");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice, ["git.a.test"])).OpenAsync();
        var lease = (await sidecar.GetAsync("https", "git.a.test")).Lease.LeaseId;
        Assert.Equal(GitCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAsync("https", "git.b.test")).ResultCase);

        await (await Host.Admin.PatchJsonAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}", new { allowedHosts = new[] { "git.a.test", "git.b.test" } })).JsonAsync(200);

        var valid = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { lease } }, sidecar.Auth);
        Assert.Equal([lease], valid.ValidLeaseIds);
        Assert.Equal(GitCredentialReply.ResultOneofCase.Lease, (await sidecar.GetAsync("https", "git.b.test")).ResultCase);

        // null removes the list: every host the owner has credentials for, and still nothing revoked.
        var all = await (await Host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/workspaces/{sidecar.WorkspaceId}", "{\"allowedHosts\":null}")).JsonAsync(200);
        Assert.Equal(JsonValueKind.Null, all.GetProperty("allowedHosts").ValueKind);
        Assert.Equal([lease], (await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { lease } }, sidecar.Auth)).ValidLeaseIds);
        Assert.Equal(
            ["allowed hosts [git.a.test] -> [git.a.test git.b.test]; no lease revoked", "allowed hosts [git.a.test git.b.test] -> (all hosts); no lease revoked"],
            await UpdateDetailsAsync(sidecar.WorkspaceId));
    }

    [Theory]
    [InlineData("{}", "empty")]
    [InlineData("{\"name\":null}", "name")]
    [InlineData("{\"name\":\"   \"}", "name")]
    [InlineData("{\"name\":42}", "name")]
    [InlineData("{\"name\":\"\\ud800\"}", "name")]
    [InlineData("{\"allowedHosts\":[\"\\ud800.a.test\"]}", "allowedHosts")]
    [InlineData("{\"repositories\":[{\"host\":\"\\ud800.a.test\",\"name\":\"org/app\"}]}", "repositories[0].host")]
    [InlineData("{\"allowedHosts\":[\"https://user:pw@git.a.test/\"]}", "allowedHosts")]
    [InlineData("{\"allowedHosts\":\"git.a.test\"}", "allowedHosts")]
    [InlineData("{\"allowedHosts\":[1]}", "allowedHosts")]
    [InlineData("{\"allowedHost\":[\"git.a.test\"]}", null)]
    [InlineData("{\"name\":", null)]
    [InlineData("[1,2]", null)]
    public async Task Patch_InvalidBody_Returns400AndChangesNothing(string json, string? field)
    {
        var sidecar = await SidecarClient.CreateWorkspaceAsync(Host, Alice, ["git.a.test"]);

        var problem = await (await Host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/workspaces/{sidecar.WorkspaceId}", json)).ProblemAsync(400);

        if (field == "empty")
        {
            Assert.Contains("empty", problem.Str("detail"), StringComparison.Ordinal);
        }
        else if (field is not null)
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        }
        Assert.DoesNotContain("pw@", problem.ToString(), StringComparison.Ordinal);
        var current = await (await Host.Admin.GetAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}")).JsonAsync(200);
        Assert.Equal("ws", current.Str("name"));
        Assert.Equal(["git.a.test"], current.GetProperty("allowedHosts").EnumerateArray().Select(h => h.GetString()));
    }

    [Fact]
    public async Task Patch_OversizedBody_Returns413()
    {
        var sidecar = await SidecarClient.CreateWorkspaceAsync(Host, Alice);
        var hosts = string.Join(',', Enumerable.Range(0, 40_000).Select(i => $"\"h{i}.example.test\""));

        var response = await Host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/workspaces/{sidecar.WorkspaceId}", $"{{\"allowedHosts\":[{hosts}]}}");

        await response.ProblemAsync(413);
    }

    [Fact]
    public async Task Patch_UnknownId_Returns404()
    {
        var response = await Host.Admin.PatchJsonAsync("/api/v1/workspaces/ws_unknown", new { name = "x" });
        await response.ProblemAsync(404);
    }

    [Fact]
    public async Task Patch_RevokedWorkspace_Returns409()
    {
        var sidecar = await SidecarClient.CreateWorkspaceAsync(Host, Alice);
        Assert.Equal(HttpStatusCode.NoContent, (await Host.Admin.DeleteAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}")).StatusCode);

        var response = await Host.Admin.PatchJsonAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}", new { name = "x" });

        await response.ProblemAsync(409);
    }

    [Fact]
    public async Task Patch_UserBoundKey_OwnWorkspaceOkOtherUsersNotFound()
    {
        var bob = await Host.CreateUserAsync("bob");
        var alices = await SidecarClient.CreateWorkspaceAsync(Host, Alice);
        var bobs = await SidecarClient.CreateWorkspaceAsync(Host, bob);
        var created = await (await Host.Admin.PostAsJsonAsync("/api/v1/api-keys",
            new { name = "alice-key", scopes = new[] { "workspaces:read", "workspaces:write" }, userId = Alice })).JsonAsync(201);
        using var aliceClient = Host.CreateClient(created.Str("key"));

        await (await aliceClient.PatchJsonAsync($"/api/v1/workspaces/{alices.WorkspaceId}", new { name = "mine" })).JsonAsync(200);
        await (await aliceClient.PatchJsonAsync($"/api/v1/workspaces/{bobs.WorkspaceId}", new { name = "theirs" })).ProblemAsync(404);

        var bobsNow = await (await Host.Admin.GetAsync($"/api/v1/workspaces/{bobs.WorkspaceId}")).JsonAsync(200);
        Assert.Equal("ws", bobsNow.Str("name"));
    }

    private async Task<List<string>> UpdateDetailsAsync(string workspaceId)
    {
        var page = await (await Host.Admin.GetAsync($"/api/v1/audit?workspaceId={workspaceId}&action=workspace.update")).JsonAsync(200);
        return page.GetProperty("items").EnumerateArray().OrderBy(r => r.GetProperty("sequence").GetInt64()).Select(r => r.Str("detail")).ToList();
    }
}
