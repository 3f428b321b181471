using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Sidecars;

/// <summary>An AI credential the workspace policy excludes is reported as such, not as "no credential".</summary>
public sealed class AiPolicyExclusionTests : BrokerWithAliceTests
{
    [Fact]
    public async Task ListAndGet_ProviderHostNotInAllowedHosts_ExcludedByPolicyWithHost()
    {
        var anthropic = await Host.CreateAiCredentialAsync(Alice, "anthropic", "sk-ant-policy-aaaaaaaaaa");
        var openai = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-policy-bbbbbbbbbbbb", baseUrl: "https://llm.example.test:8443/v1");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice, ["git.example.test", "llm.example.test"])).OpenAsync();

        var listed = await sidecar.Grpc.ListAiCredentialsAsync(new ListAiCredentialsRequest(), sidecar.Auth);
        var reply = await sidecar.GetAiAsync("anthropic", mode: "inject");

        Assert.Equal([openai], listed.Credentials.Select(c => c.CredentialId));
        var excluded = Assert.Single(listed.ExcludedByPolicy);
        Assert.Equal((anthropic, "anthropic", "api.anthropic.com:443"), (excluded.CredentialId, excluded.Provider, excluded.Host));
        Assert.Equal(AiCredentialReply.ResultOneofCase.ExcludedByPolicy, reply.ResultCase);
        Assert.Equal((anthropic, "api.anthropic.com:443"), (reply.ExcludedByPolicy.CredentialId, reply.ExcludedByPolicy.Host));
        Assert.DoesNotContain("sk-ant-policy", reply.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_AfterPatchAllowsTheHost_Issued()
    {
        await Host.CreateAiCredentialAsync(Alice, "anthropic", "sk-ant-policy-cccccccccc");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice, ["git.example.test"])).OpenAsync();
        Assert.Equal(AiCredentialReply.ResultOneofCase.ExcludedByPolicy, (await sidecar.GetAiAsync("anthropic")).ResultCase);

        await (await Host.Admin.PatchJsonAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}",
            new { allowedHosts = new[] { "git.example.test", "api.anthropic.com" } })).JsonAsync(200);

        Assert.Equal(AiCredentialReply.ResultOneofCase.Lease, (await sidecar.GetAiAsync("anthropic")).ResultCase);
        Assert.Empty((await sidecar.Grpc.ListAiCredentialsAsync(new ListAiCredentialsRequest(), sidecar.Auth)).ExcludedByPolicy);
    }

    [Fact]
    public async Task Get_NoCredentialOfProvider_StillNoMatch()
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice, ["git.example.test"])).OpenAsync();

        Assert.Equal(AiCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAiAsync("anthropic")).ResultCase);
        Assert.Empty((await sidecar.Grpc.ListAiCredentialsAsync(new ListAiCredentialsRequest(), sidecar.Auth)).ExcludedByPolicy);
    }
}
