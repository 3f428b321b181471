using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Sidecars;

/// <summary>An AI credential the workspace policy excludes is reported as such, not as "no credential".</summary>
public sealed class AiPolicyExclusionTests : IAsyncLifetime
{
    private BrokerTestHost _host = null!;
    private string _alice = null!;

    public async Task InitializeAsync()
    {
        _host = await BrokerTestHost.StartAsync();
        _alice = await _host.CreateUserAsync("alice");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task ListAndGet_ProviderHostNotInAllowedHosts_ExcludedByPolicyWithHost()
    {
        var anthropic = await _host.CreateAiCredentialAsync(_alice, "anthropic", "sk-ant-policy-aaaaaaaaaa");
        var openai = await _host.CreateAiCredentialAsync(_alice, "openai", "sk-policy-bbbbbbbbbbbb", baseUrl: "https://llm.example.test:8443/v1");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice, ["git.example.test", "llm.example.test"])).OpenAsync();

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
        await _host.CreateAiCredentialAsync(_alice, "anthropic", "sk-ant-policy-cccccccccc");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice, ["git.example.test"])).OpenAsync();
        Assert.Equal(AiCredentialReply.ResultOneofCase.ExcludedByPolicy, (await sidecar.GetAiAsync("anthropic")).ResultCase);

        await (await _host.Admin.PatchJsonAsync($"/api/v1/workspaces/{sidecar.WorkspaceId}",
            new { allowedHosts = new[] { "git.example.test", "api.anthropic.com" } })).JsonAsync(200);

        Assert.Equal(AiCredentialReply.ResultOneofCase.Lease, (await sidecar.GetAiAsync("anthropic")).ResultCase);
        Assert.Empty((await sidecar.Grpc.ListAiCredentialsAsync(new ListAiCredentialsRequest(), sidecar.Auth)).ExcludedByPolicy);
    }

    [Fact]
    public async Task Get_NoCredentialOfProvider_StillNoMatch()
    {
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(_host, _alice, ["git.example.test"])).OpenAsync();

        Assert.Equal(AiCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAiAsync("anthropic")).ResultCase);
        Assert.Empty((await sidecar.Grpc.ListAiCredentialsAsync(new ListAiCredentialsRequest(), sidecar.Auth)).ExcludedByPolicy);
    }
}
