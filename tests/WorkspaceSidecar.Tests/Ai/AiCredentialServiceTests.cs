using Google.Protobuf;
using Xares.Protos.Broker.V1;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Tests.Fakes;

namespace Xares.Sidecar.Tests.Ai;

public sealed class AiCredentialServiceTests
{
    [Fact]
    public async Task Credentials_ListsOwnersAiCredentialsWithoutSecrets()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1");
        broker.State.AddAiCredential("cred_an", "anthropic", "sk-ant-1", "https://llm.example.com");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var response = await sidecar.SendAsync(new SidecarRequest { AiCredentials = new AiCredentialsRequest() });

        Assert.Equal(SidecarResponse.ResponseOneofCase.AiCredentials, response.ResponseCase);
        Assert.Equal(["openai", "anthropic"], response.AiCredentials.Credentials.Select(c => c.Provider));
        Assert.Equal("https://llm.example.com", response.AiCredentials.Credentials[1].BaseUrl);
        Assert.DoesNotContain("sk-", response.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_MissThenHit_AsksBrokerOncePerMode()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1", "https://proxy.example.com/v1");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var first = await KeyAsync(sidecar, "openai", "proxy");
        var second = await KeyAsync(sidecar, "OpenAI", "proxy");
        var inject = await KeyAsync(sidecar, "openai", "inject");

        Assert.True(first.Found);
        Assert.Equal("sk-real-1", first.Secret);
        Assert.Equal("https://proxy.example.com/v1", first.BaseUrl);
        Assert.Equal("cred_oa", first.CredentialId);
        Assert.NotEmpty(first.LeaseId);
        Assert.Equal(first, second);
        Assert.True(inject.Found);
        Assert.Equal(2, broker.State.GetAiCredentialCalls);
        Assert.Equal(["proxy", "inject"], broker.State.AiRequests.Select(r => r.Mode));
    }

    [Fact]
    public async Task Key_RotatedCredential_NextRequestGetsNewSecret()
    {
        await using var broker = await FakeBroker.StartAsync();
        var credential = broker.State.AddAiCredential("cred_oa", "openai", "sk-old");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        Assert.Equal("sk-old", (await KeyAsync(sidecar, "openai", "proxy")).Secret);

        broker.State.RotateAi(credential, "sk-new");
        await Until.TrueAsync(() => sidecar.Runtime.Cache.Count == 0, what: "the rotated key dropped");

        Assert.Equal("sk-new", (await KeyAsync(sidecar, "openai", "proxy")).Secret);
    }

    [Theory]
    [InlineData(RevocationEvent.Types.Kind.Lease)]
    [InlineData(RevocationEvent.Types.Kind.Workspace)]
    public async Task Key_Revoked_DroppedFromCache(RevocationEvent.Types.Kind kind)
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        var key = await KeyAsync(sidecar, "openai", "proxy");
        Assert.Equal(1, sidecar.Runtime.Cache.Count);

        broker.State.Revoke(kind, kind == RevocationEvent.Types.Kind.Lease ? key.LeaseId : broker.State.WorkspaceId);

        await Until.TrueAsync(() => sidecar.Runtime.Cache.Count == 0, what: "the revoked key dropped");
    }

    [Fact]
    public async Task Key_NoCredentialForProvider_NotFound()
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var key = await KeyAsync(sidecar, "groq", "inject");

        Assert.False(key.Found);
        Assert.False(key.LimitReached);
        Assert.Equal("", key.Secret);
    }

    [Fact]
    public async Task Key_LimitReached_NotFoundWithLimitFlag()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1").MonthlyLimit = 0;
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var key = await KeyAsync(sidecar, "openai", "proxy");

        Assert.False(key.Found);
        Assert.True(key.LimitReached);
        Assert.Equal("cred_oa", key.CredentialId);
    }

    [Fact]
    public async Task Usage_Forwarded_LimitReachedByTheGrantKeepsTheGrantedLease()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1").MonthlyLimit = 3;
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        var key = await KeyAsync(sidecar, "openai", "proxy");

        var reached = await UsageAsync(sidecar, key.LeaseId, requests: 1, input: 10, output: 5);

        // The lease came with all 3 requests the limit allowed: counted, and still there to be used.
        Assert.True(reached.LimitReached);
        Assert.Equal(1, sidecar.Runtime.Cache.Count);
        Assert.Equal(3, sidecar.Runtime.Ai.Budget.Held(key.LeaseId));
        Assert.Equal(10, broker.State.UsageReports[0].InputTokens);
        Assert.Equal(5, broker.State.UsageReports[0].OutputTokens);
        Assert.Equal(key.LeaseId, (await KeyAsync(sidecar, "openai", "proxy")).LeaseId);
    }

    [Fact]
    public async Task Key_BadMode_BadRequest()
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var response = await sidecar.SendAsync(new SidecarRequest { AiKey = new AiKeyRequest { Provider = "openai", Mode = "steal" } });

        Assert.Equal("bad_request", response.Error.Code);
    }

    [Fact]
    public async Task Key_BrokerDown_BrokerUnavailableQuickly()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        await broker.StopAsync();
        await Until.TrueAsync(() => sidecar.Runtime.Link.State == Xares.Sidecar.Broker.LinkState.Disconnected, what: "the link down");

        var response = await sidecar.SendAsync(new SidecarRequest { AiKey = new AiKeyRequest { Provider = "openai", Mode = "inject" } });

        Assert.Equal("broker_unavailable", response.Error.Code);
    }

    [Fact]
    public async Task Key_ProxyModeOverSocket_RefusedWithoutSecret()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        // Even with the key already cached for the sidecar's own proxy.
        Assert.True((await KeyAsync(sidecar, "openai", "proxy")).Found);

        var response = await sidecar.SendAsync(new SidecarRequest { AiKey = new AiKeyRequest { Provider = "openai", Mode = "proxy" } });

        Assert.Equal("bad_request", response.Error.Code);
        Assert.DoesNotContain("sk-real-1", response.ToByteString().ToStringUtf8(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_ProxyOnlyCredential_InjectRefusedWithProxyOnlyError()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1").ProxyOnly = true;
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var response = await sidecar.SendAsync(new SidecarRequest { AiKey = new AiKeyRequest { Provider = "openai", Mode = "inject" } });

        Assert.Equal("proxy_only", response.Error.Code);
        Assert.Contains("cred_oa is proxy-only", response.Error.Message, StringComparison.Ordinal);
        Assert.Contains("xares-sidecar run", response.Error.Message, StringComparison.Ordinal);
        Assert.Equal(0, sidecar.Runtime.Cache.Count);
    }

    [Fact]
    public async Task Usage_OverSocket_Refused()
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var response = await sidecar.SendAsync(new SidecarRequest { AiUsage = new AiUsageRequest { LeaseId = "lease_1", Requests = 1000 } });

        Assert.Equal("bad_request", response.Error.Code);
        Assert.Empty(broker.State.UsageReports);
    }

    /// <summary>Inject mode over the socket, proxy mode as the sidecar's own proxy asks (in process).</summary>
    private static async Task<AiKeyResponse> KeyAsync(SidecarHarness sidecar, string provider, string mode)
    {
        var response = mode == "proxy"
            ? await sidecar.Runtime.Ai.LeaseAsync(provider, "", mode, CancellationToken.None)
            : await sidecar.SendAsync(new SidecarRequest { AiKey = new AiKeyRequest { Provider = provider, Mode = mode } });
        Assert.Equal(SidecarResponse.ResponseOneofCase.AiKey, response.ResponseCase);
        return response.AiKey;
    }

    private static async Task<AiUsageResponse> UsageAsync(SidecarHarness sidecar, string leaseId, long requests, long input, long output)
    {
        // What the sidecar's proxies report (in process; peers may not).
        var response = await sidecar.Runtime.Ai.UsageAsync(
            new AiUsageRequest { LeaseId = leaseId, Requests = requests, InputTokens = input, OutputTokens = output }, CancellationToken.None);
        Assert.Equal(SidecarResponse.ResponseOneofCase.AiUsage, response.ResponseCase);
        return response.AiUsage;
    }
}
