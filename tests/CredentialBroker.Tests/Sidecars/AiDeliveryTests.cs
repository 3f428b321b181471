using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Sidecars;

/// <summary>delivery "proxy" | "any" on AI credentials: proxy-only keys are never issued for inject.</summary>
public sealed class AiDeliveryTests : BrokerWithAliceTests
{
    [Fact]
    public async Task Create_AiWithoutDelivery_ProxyOnly_GitHasNone()
    {
        var ai = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-default-aaaaaaaaaa");
        var any = await Host.CreateAiCredentialAsync(Alice, "anthropic", "sk-ant-any-bbbbbbbbbb", delivery: "any");
        var git = await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "ghp_delivery0123456789");

        Assert.Equal("proxy", (await Host.CredentialAsync(ai)).GetProperty("delivery").GetString());
        Assert.Equal("any", (await Host.CredentialAsync(any)).GetProperty("delivery").GetString());
        Assert.Equal(JsonValueKind.Null, (await Host.CredentialAsync(git)).GetProperty("delivery").ValueKind);
    }

    [Fact]
    public async Task ListAiCredentials_SaysWhichAreProxyOnly()
    {
        var proxyOnly = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-listed-proxy-aaaaaaaa");
        var any = await Host.CreateAiCredentialAsync(Alice, "anthropic", "sk-ant-listed-any-bbbbbbbb", delivery: "any");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        var listed = await sidecar.Grpc.ListAiCredentialsAsync(new ListAiCredentialsRequest(), sidecar.Auth);

        Assert.True(Assert.Single(listed.Credentials, c => c.CredentialId == proxyOnly).ProxyOnly);
        Assert.False(Assert.Single(listed.Credentials, c => c.CredentialId == any).ProxyOnly);
    }

    [Theory]
    [InlineData("ai", "both")]
    [InlineData("ai", "")]
    [InlineData("git", "proxy")]
    public async Task Create_BadDelivery_400NamingTheField(string kind, string delivery)
    {
        object body = kind == "ai"
            ? new { kind, provider = "openai", secret = "sk-bad-cccccccccccc", delivery }
            : new { kind, provider = "generic", url = "https://git.example.test", username = "alice", secret = "ghp_bad0123456789", delivery };

        var response = await Host.Admin.PostAsJsonAsync($"/api/v1/users/{Alice}/credentials", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("delivery", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAiCredential_ProxyOnly_InjectRefusedAndAudited_ProxyIssued()
    {
        var id = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-proxyonly-dddddddd");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        var inject = await sidecar.GetAiAsync("openai", "inject");
        var proxy = await sidecar.GetAiAsync("openai", "proxy");

        Assert.Equal(AiCredentialReply.ResultOneofCase.ProxyOnly, inject.ResultCase);
        Assert.Equal(id, inject.ProxyOnly.CredentialId);
        Assert.DoesNotContain("sk-proxyonly", inject.ToString(), StringComparison.Ordinal);
        Assert.Equal(AiCredentialReply.ResultOneofCase.Lease, proxy.ResultCase);
        Assert.Equal(1L, AiTestData.Scalar(Host, "SELECT COUNT(*) FROM leases WHERE credential_id = $c", ("$c", id)));
        Assert.Contains("proxy-only; mode inject refused", await Host.AuditAsync("lease.issue", id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Patch_AnyToProxy_RevokesLeasesThenRefusesInject_BackToAnyIssues()
    {
        var id = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-switch-eeeeeeeeee", delivery: "any");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var injected = (await sidecar.GetAiAsync("openai", "inject")).Lease;

        var patched = await Host.Admin.PatchAsync($"/api/v1/credentials/{id}", JsonContent.Create(new { delivery = "proxy" }));
        patched.EnsureSuccessStatusCode();

        var validation = await sidecar.Grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { injected.LeaseId } }, sidecar.Auth);
        Assert.Empty(validation.ValidLeaseIds);
        Assert.Equal(AiCredentialReply.ResultOneofCase.ProxyOnly, (await sidecar.GetAiAsync("openai", "inject")).ResultCase);
        Assert.Contains("changed delivery", await Host.AuditAsync("credential.update", id), StringComparison.Ordinal);

        (await Host.Admin.PatchAsync($"/api/v1/credentials/{id}", JsonContent.Create(new { delivery = "any" }))).EnsureSuccessStatusCode();
        Assert.Equal(AiCredentialReply.ResultOneofCase.Lease, (await sidecar.GetAiAsync("openai", "inject")).ResultCase);
    }

    [Fact]
    public async Task Patch_DeliveryOnGit_400()
    {
        var git = await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "ghp_patch0123456789");

        var response = await Host.Admin.PatchAsync($"/api/v1/credentials/{git}", JsonContent.Create(new { delivery = "proxy" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
