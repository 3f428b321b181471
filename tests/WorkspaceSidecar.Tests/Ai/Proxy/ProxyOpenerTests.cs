using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Local;
using Xares.Sidecar.Tests.Fakes;

namespace Xares.Sidecar.Tests.Ai.Proxy;

/// <summary>OpenProxy over the real socket of a running sidecar: ports and placeholders out, the key stays in.</summary>
public sealed class ProxyOpenerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task OpenProxy_AnswersPortAndPlaceholderOnly_ForwardsWithRealKey_ClosesWithConnection()
    {
        await using var upstream = await FakeProvider.StartAsync();
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1", upstream.BaseUrl + "/v1");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var (response, connection) = await OpenAsync(sidecar, "openai");
        var endpoint = Assert.Single(response.OpenProxy.Endpoints);
        Assert.DoesNotContain("sk-real-1", response.ToByteString().ToStringUtf8(), StringComparison.Ordinal);
        Assert.Equal("cred_oa", endpoint.CredentialId);
        Assert.Equal($"http://127.0.0.1:{endpoint.Port}/v1", endpoint.LocalBaseUrl);
        Assert.StartsWith("xares-placeholder-", endpoint.Placeholder, StringComparison.Ordinal);
        Assert.DoesNotContain(endpoint.Placeholder, endpoint.ToString(), StringComparison.Ordinal);

        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using (connection)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, endpoint.LocalBaseUrl + "/models");
            request.Headers.Add("Authorization", "Bearer " + endpoint.Placeholder);
            using var answer = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal("Bearer sk-real-1", Assert.Single(upstream.Requests).Headers["authorization"]);
            await Until.TrueAsync(() => broker.State.UsageReports.Sum(r => r.Requests) == 1, what: "usage reported by the sidecar's proxy");
            Assert.Equal(1, sidecar.Runtime.Proxies.OpenCount);
        }

        // The run's connection closed: the sidecar closes its proxy and the placeholder is worthless.
        await Until.TrueAsync(() => sidecar.Runtime.Proxies.OpenCount == 0, what: "the proxy closed with its connection");
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, endpoint.Port));
    }

    [Fact]
    public async Task Proxy_MonthlyLimitOfTwo_TwoForwarded_ThirdAnswered429Locally()
    {
        await using var upstream = await FakeProvider.StartAsync();
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1", upstream.BaseUrl + "/v1").MonthlyLimit = 2;
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var (response, connection) = await OpenAsync(sidecar, "openai");
        var endpoint = Assert.Single(response.OpenProxy.Endpoints);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        async Task<HttpResponseMessage> SendAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, endpoint.LocalBaseUrl + "/models");
            request.Headers.Add("Authorization", "Bearer " + endpoint.Placeholder);
            return await client.SendAsync(request);
        }
        using (connection)
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync()).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync()).StatusCode);
            using var third = await SendAsync();

            Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
            var body = await third.Content.ReadAsStringAsync();
            Assert.Contains("monthly_limit_reached", body, StringComparison.Ordinal);
            Assert.Contains("the openai credential cred_oa has reached its monthly limit of 2 requests", body, StringComparison.Ordinal);
            Assert.Equal(2, upstream.Requests.Count);
        }
    }

    [Fact]
    public async Task Proxy_LastOneClosed_UnusedAllowanceReturned()
    {
        await using var upstream = await FakeProvider.StartAsync();
        await using var broker = await FakeBroker.StartAsync();
        var credential = broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1", upstream.BaseUrl + "/v1");
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var (response, connection) = await OpenAsync(sidecar, "openai");
        var endpoint = Assert.Single(response.OpenProxy.Endpoints);
        using (connection)
        {
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
            using var request = new HttpRequestMessage(HttpMethod.Get, endpoint.LocalBaseUrl + "/models");
            request.Headers.Add("Authorization", "Bearer " + endpoint.Placeholder);
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
            Assert.Equal(32, credential.Uses);
        }

        await Until.TrueAsync(() => broker.State.UsageReports.Any(r => r.ReturnedRequests > 0), what: "the unused allowance given back");
        Assert.Equal(31, broker.State.UsageReports.Sum(r => r.ReturnedRequests));
        Assert.Equal(1, broker.State.UsageReports.Sum(r => r.Requests));
        Assert.Equal(1, credential.Uses);
    }

    [Fact]
    public async Task OpenProxy_ProxyOnlyCredential_Opens()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_an", "anthropic", "sk-ant-1").ProxyOnly = true;
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var (response, connection) = await OpenAsync(sidecar, "anthropic");
        using (connection)
        {
            Assert.Equal(SidecarResponse.ResponseOneofCase.OpenProxy, response.ResponseCase);
            Assert.Equal(["proxy"], broker.State.AiRequests.Select(r => r.Mode));
        }
    }

    [Fact]
    public async Task OpenProxy_NoCredentialOrLimitReached_ErrorNoProxyLeftOpen()
    {
        await using var broker = await FakeBroker.StartAsync();
        broker.State.AddAiCredential("cred_oa", "openai", "sk-real-1").MonthlyLimit = 0;
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var (limit, first) = await OpenAsync(sidecar, "openai");
        first.Dispose();
        var (missing, second) = await OpenAsync(sidecar, "groq");
        second.Dispose();

        Assert.Equal("limit_reached", limit.Error.Code);
        Assert.Contains("cred_oa has reached its monthly limit", limit.Error.Message, StringComparison.Ordinal);
        Assert.Equal("no_credential", missing.Error.Code);
        Assert.Equal(0, sidecar.Runtime.Proxies.OpenCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData("no-such-provider")]
    public async Task OpenProxy_BadTargets_BadRequest(string provider)
    {
        await using var broker = await FakeBroker.StartAsync();
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();

        var request = new OpenProxyRequest();
        if (provider.Length > 0)
        {
            request.Targets.Add(new ProxyTarget { Provider = provider });
        }
        var response = await sidecar.SendAsync(new SidecarRequest { OpenProxy = request });

        Assert.Equal("bad_request", response.Error.Code);
        Assert.Equal(0, sidecar.Runtime.Proxies.OpenCount);
    }

    private static async Task<(SidecarResponse Response, Socket Connection)> OpenAsync(SidecarHarness sidecar, string provider)
    {
        var request = new OpenProxyRequest { Tool = "test" };
        request.Targets.Add(new ProxyTarget { Provider = provider });
        return await LocalSocketClient.SendAndHoldAsync(sidecar.SocketPath, new SidecarRequest { OpenProxy = request }, Timeout, CancellationToken.None);
    }
}
