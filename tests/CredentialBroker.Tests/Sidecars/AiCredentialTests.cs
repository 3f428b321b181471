using Grpc.Core;
using Microsoft.Data.Sqlite;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Sidecars;

public sealed class AiCredentialTests : BrokerWithAliceTests
{
    [Fact]
    public async Task GetAiCredential_ByProvider_OldestWithSecretAndBaseUrl()
    {
        var first = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-first-aaaaaaaaaaaa", baseUrl: "http://127.0.0.1:9999/v1/");
        await Host.CreateAiCredentialAsync(Alice, "openai", "sk-second-bbbbbbbbbbb");
        await Host.CreateAiCredentialAsync(Alice, "anthropic", "sk-ant-cccccccccccc");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        var openai = (await sidecar.GetAiAsync("openai")).Lease;
        Assert.Equal(first, openai.CredentialId);
        Assert.Equal("sk-first-aaaaaaaaaaaa", openai.Secret);
        Assert.Equal("openai", openai.Provider);
        Assert.Equal("http://127.0.0.1:9999/v1", openai.BaseUrl);
        Assert.Equal(1, openai.SecretVersion);
        Assert.InRange(openai.ExpiresAt.ToDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(14), TimeSpan.FromMinutes(15.1));

        var anthropic = (await sidecar.GetAiAsync("anthropic")).Lease;
        Assert.Equal("sk-ant-cccccccccccc", anthropic.Secret);
        Assert.Equal("", anthropic.BaseUrl);
        var leases = await Host.Admin.GetStringAsync($"/api/v1/leases?workspaceId={sidecar.WorkspaceId}");
        Assert.Contains(openai.LeaseId, leases, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAiCredential_NamedCredential_ThatOneEvenIfNotOldest()
    {
        await Host.CreateAiCredentialAsync(Alice, "openai", "sk-first-aaaaaaaaaaaa");
        var second = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-second-bbbbbbbbbbb");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        Assert.Equal("sk-second-bbbbbbbbbbb", (await sidecar.GetAiAsync("openai", credentialId: second)).Lease.Secret);
        Assert.Equal("sk-second-bbbbbbbbbbb", (await sidecar.GetAiAsync("", credentialId: second)).Lease.Secret);
        Assert.Equal(AiCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAiAsync("anthropic", credentialId: second)).ResultCase);
    }

    [Fact]
    public async Task GetAiCredential_NamedCredentialOfAnotherUser_NoMatchAndAudited()
    {
        var bob = await Host.CreateUserAsync("bob");
        var bobs = await Host.CreateAiCredentialAsync(bob, "openai", "sk-bob-dddddddddddd");
        await Host.CreateAiCredentialAsync(Alice, "openai", "sk-alice-eeeeeeeeeee");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        var reply = await sidecar.GetAiAsync("openai", credentialId: bobs);

        Assert.Equal(AiCredentialReply.ResultOneofCase.NoMatch, reply.ResultCase);
        var audit = await Host.Admin.GetStringAsync($"/api/v1/audit?workspaceId={sidecar.WorkspaceId}&action=lease.issue");
        Assert.Contains("denied", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-bob-dddddddddddd", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAiCredential_NoCredentialForProvider_NoMatch()
    {
        await Host.CreateAiCredentialAsync(Alice, "openai", "sk-alice-eeeeeeeeeee");
        var git = await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "git-secret-ffffffff");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        Assert.Equal(AiCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAiAsync("groq")).ResultCase);
        Assert.Equal(AiCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAiAsync("", credentialId: git)).ResultCase);
        Assert.Equal(AiCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAiAsync("", credentialId: "cred_unknown")).ResultCase);
    }

    [Fact]
    public async Task GetAiCredential_ExpiredCredential_NoMatch()
    {
        var id = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-soon-gggggggggggg", expiresAt: DateTimeOffset.UtcNow.AddSeconds(1));
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        await Task.Delay(1200);
        Assert.Equal(AiCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAiAsync("openai")).ResultCase);
        Assert.Equal(AiCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAiAsync("openai", credentialId: id)).ResultCase);
    }

    [Theory]
    [InlineData("openai", "")]
    [InlineData("openai", "env")]
    [InlineData("nope", "proxy")]
    [InlineData("", "proxy")]
    public async Task GetAiCredential_BadProviderOrMode_InvalidArgument(string provider, string mode)
    {
        await Host.CreateAiCredentialAsync(Alice, "openai", "sk-alice-eeeeeeeeeee");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => sidecar.GetAiAsync(provider, mode));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.DoesNotContain("sk-alice", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAiCredential_WithoutSession_Unauthenticated()
    {
        var client = new SidecarBroker.SidecarBrokerClient(Host.GrpcChannel);
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.GetAiCredentialAsync(new AiCredentialRequest { Provider = "openai", Mode = "proxy" }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task GetAiCredential_InjectMode_AuditedAsEnteringAnEnvironmentAndCountedOnce()
    {
        var id = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-inject-hhhhhhhhhh", delivery: "any");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        var injected = (await sidecar.GetAiAsync("openai", "inject")).Lease;
        var proxied = (await sidecar.GetAiAsync("openai", "proxy")).Lease;

        var audit = await Host.AuditAsync("lease.issue", id);
        Assert.Contains(injected.LeaseId, audit, StringComparison.Ordinal);
        Assert.Contains("mode inject: the real key enters a process environment", audit, StringComparison.Ordinal);
        Assert.Contains("mode proxy", audit, StringComparison.Ordinal);
        Assert.Contains("openai", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-inject-hhhhhhhhhh", audit, StringComparison.Ordinal);
        // Inject is one use; a proxy lease counts the requests granted to it (its first block comes with it).
        Assert.Contains($"{proxied.GrantedRequests} requests granted and counted", audit, StringComparison.Ordinal);
        var usage = (await Host.CredentialAsync(id)).GetProperty("usage");
        Assert.Equal(1 + proxied.GrantedRequests, usage.GetProperty("totalUses").GetInt64());
        Assert.Equal(1 + proxied.GrantedRequests, usage.GetProperty("usesThisMonth").GetInt64());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, usage.GetProperty("lastUsedAt").ValueKind);
        Assert.NotEqual(injected.LeaseId, proxied.LeaseId);
    }

    [Fact]
    public async Task GetAiCredential_BaseUrlEditedInDatabase_FailsToDecryptAndAudited()
    {
        var id = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-tamper-iiiiiiiiii", delivery: "any");
        using (var connection = new SqliteConnection($"Data Source={Host.DatabasePath}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE credentials SET url = 'https://evil.example.test/v1' WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            Assert.Equal(1, command.ExecuteNonQuery());
        }
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        Assert.Equal(AiCredentialReply.ResultOneofCase.NoMatch, (await sidecar.GetAiAsync("openai", "inject")).ResultCase);
        Assert.Contains("failure", await Host.AuditAsync("credential.integrity", id), StringComparison.Ordinal);
        Assert.Equal(0L, AiTestData.Scalar(Host, "SELECT COUNT(*) FROM leases WHERE credential_id = $c", ("$c", id)));
        Assert.Equal(0L, AiTestData.Scalar(Host, "SELECT total_uses FROM credentials WHERE id = $c", ("$c", id)));
    }

    [Fact]
    public async Task GetAiCredential_ProviderHostOutsideAllowList_ExcludedByPolicyAndNotListed()
    {
        await Host.CreateAiCredentialAsync(Alice, "openai", "sk-alice-eeeeeeeeeee");
        await Host.CreateAiCredentialAsync(Alice, "anthropic", "sk-ant-jjjjjjjjjjjj");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice, ["api.anthropic.com"])).OpenAsync();

        Assert.Equal(AiCredentialReply.ResultOneofCase.ExcludedByPolicy, (await sidecar.GetAiAsync("openai")).ResultCase);
        Assert.Equal(AiCredentialReply.ResultOneofCase.Lease, (await sidecar.GetAiAsync("anthropic")).ResultCase);
        var listed = await sidecar.Grpc.ListAiCredentialsAsync(new ListAiCredentialsRequest(), sidecar.Auth);
        Assert.Equal(["anthropic"], listed.Credentials.Select(c => c.Provider));
    }

    [Fact]
    public async Task ListAiCredentials_OwnersAiCredentialsOnly_NoSecrets()
    {
        var bob = await Host.CreateUserAsync("bob");
        await Host.CreateAiCredentialAsync(bob, "openai", "sk-bob-dddddddddddd");
        var openai = await Host.CreateAiCredentialAsync(Alice, "openai", "sk-alice-eeeeeeeeeee", baseUrl: "https://llm.example.test/v1", monthlyLimit: 10);
        var groq = await Host.CreateAiCredentialAsync(Alice, "groq", "gsk-alice-kkkkkkkkkk");
        await Host.CreateGitCredentialAsync(Alice, "https://git.example.test", "alice", "git-secret-ffffffff");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, Alice)).OpenAsync();

        var reply = await sidecar.Grpc.ListAiCredentialsAsync(new ListAiCredentialsRequest(), sidecar.Auth);

        Assert.Equal([openai, groq], reply.Credentials.Select(c => c.CredentialId));
        Assert.Equal("https://llm.example.test/v1", reply.Credentials[0].BaseUrl);
        Assert.Equal("", reply.Credentials[1].BaseUrl);
        Assert.All(reply.Credentials, c => Assert.False(c.LimitReached));
        var text = reply.ToString();
        Assert.DoesNotContain("sk-", text, StringComparison.Ordinal);
        Assert.DoesNotContain("gsk-", text, StringComparison.Ordinal);
    }
}
