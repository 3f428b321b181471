using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Ai.Proxy;
using Xares.Sidecar.Tests.Fakes;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Tests.Ai.Proxy;

public sealed class AiProxyTests : IAsyncLifetime
{
    private readonly List<AiUsageRequest> _reports = [];
    private FakeProvider _upstream = null!;
    private HttpClient _upstreamClient = null!;
    private AiProxy _proxy = null!;
    private AiKeyResponse _key = null!;
    private ProxyRoute _openAi = null!;
    private ProxyRoute _anthropic = null!;
    private ProxyRoute _google = null!;
    private readonly HttpClient _client = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false });

    public async Task InitializeAsync()
    {
        _upstream = await FakeProvider.StartAsync();
        _key = new AiKeyResponse { Found = true, Secret = "sk-real-1", LeaseId = "lease_1", BaseUrl = _upstream.BaseUrl + "/v1" };
        _openAi = new ProxyRoute(ToolCatalogue.FindProvider("openai")!, "c1", _ => Task.FromResult(_key));
        _anthropic = new ProxyRoute(ToolCatalogue.FindProvider("anthropic")!, "c2", _ => Task.FromResult(_key.Clone().WithBase(_upstream.BaseUrl)));
        _google = new ProxyRoute(ToolCatalogue.FindProvider("google")!, "c3", _ => Task.FromResult(_key.Clone().WithBase(_upstream.BaseUrl)));
        _upstreamClient = ProxyForwarder.CreateUpstreamClient();
        var usage = new UsageReporter((report, _) =>
        {
            lock (_reports)
            {
                _reports.Add(report);
            }
            return Task.FromResult(false);
        });
        _proxy = await AiProxy.StartAsync([_openAi, _anthropic, _google], new ProxyForwarder(_upstreamClient, usage), usage);
    }

    [Fact]
    public async Task Forward_PlaceholderSwappedForRealKey_AuthHeadersStripped()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _openAi.LocalBaseUrl + "/chat/completions")
        {
            Content = new StringContent("""{"model":"m"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Authorization", "Bearer " + _openAi.Placeholder);
        request.Headers.Add("x-api-key", "sk-child-set");
        request.Headers.Add("x-goog-api-key", "child-set");

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        var seen = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1/chat/completions", seen.PathAndQuery);
        Assert.Equal("Bearer sk-real-1", seen.Headers["authorization"]);
        Assert.False(seen.Headers.ContainsKey("x-api-key"));
        Assert.False(seen.Headers.ContainsKey("x-goog-api-key"));
        Assert.Equal(_upstream.BaseUrl.Replace("http://", "", StringComparison.Ordinal), seen.Headers["host"]);
        await Until.TrueAsync(() => { lock (_reports) { return _reports.Sum(r => r.Requests) == 1; } }, what: "usage reported");
        lock (_reports)
        {
            Assert.Equal(7, _reports[0].InputTokens);
            Assert.Equal(3, _reports[0].OutputTokens);
            Assert.Equal("lease_1", _reports[0].LeaseId);
        }
    }

    [Fact]
    public async Task Forward_Anthropic_XApiKey_GoogleKeyFromQueryNeverInUrl()
    {
        using var anthropic = new HttpRequestMessage(HttpMethod.Post, _anthropic.LocalBaseUrl + "/v1/messages") { Content = new StringContent("{}") };
        anthropic.Headers.Add("x-api-key", _anthropic.Placeholder);
        using var google = new HttpRequestMessage(HttpMethod.Get, _google.LocalBaseUrl + "/v1beta/models?key=" + _google.Placeholder + "&pageSize=2");

        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(anthropic)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(google)).StatusCode);

        var seen = _upstream.Requests.ToArray();
        Assert.Equal("sk-real-1", seen[0].Headers["x-api-key"]);
        Assert.False(seen[0].Headers.ContainsKey("authorization"));
        Assert.Equal("/v1beta/models?pageSize=2", seen[1].PathAndQuery);
        Assert.Equal("sk-real-1", seen[1].Headers["x-goog-api-key"]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong")]
    [InlineData("Bearer sk-real-1")]
    public async Task Forward_WrongOrMissingPlaceholder_401Json(string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _openAi.LocalBaseUrl + "/models");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("invalid_api_key", await response.Content.ReadAsStringAsync());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Forward_OriginOrForeignHost_Refused()
    {
        using var withOrigin = Authorized(HttpMethod.Get, "/models");
        withOrigin.Headers.Add("Origin", "http://127.0.0.1:" + _openAi.Port);
        using var foreignHost = Authorized(HttpMethod.Get, "/models");
        foreignHost.Headers.Host = "attacker.example:" + _openAi.Port;
        using var localhostName = Authorized(HttpMethod.Get, "/models");
        localhostName.Headers.Host = "localhost:" + _openAi.Port;

        foreach (var request in new[] { withOrigin, foreignHost, localhostName })
        {
            using var response = await _client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData("CONNECT api.openai.com:443 HTTP/1.1", "40")] // Kestrel itself answers 400 before the 405 of ProxyGuard
    [InlineData("GET http://127.0.0.1:{port}/v1/models HTTP/1.1", "400")]
    [InlineData("GET /v1/../v1/models HTTP/1.1", "400")]
    [InlineData("GET /v1/a%2Fb HTTP/1.1", "400")]
    [InlineData("GET /v1/a%5cb HTTP/1.1", "400")]
    [InlineData("OPTIONS * HTTP/1.1", "400")]
    public async Task Forward_OddTargets_Refused(string requestLine, string status)
    {
        var answer = await RawAsync(requestLine.Replace("{port}", _openAi.Port.ToString(), StringComparison.Ordinal));

        Assert.StartsWith("HTTP/1.1 " + status, answer);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Forward_WebSocketUpgradeWhereProviderHasNone_426LocallyNeverForwarded()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _anthropic.Port);
        // A WebSocket handshake, with the placeholder as its key, to a provider the proxy relays none for.
        var text = $"GET /v1/messages HTTP/1.1\r\nHost: {_anthropic.Authority}\r\nx-api-key: {_anthropic.Placeholder}\r\n" +
            "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(text));
        var buffer = new byte[4096];
        var answer = Encoding.ASCII.GetString(buffer, 0, await socket.ReceiveAsync(buffer));

        Assert.StartsWith("HTTP/1.1 426", answer);
        Assert.Contains("upgrade_required", answer);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Forward_UpstreamRedirect_PassedBackNotFollowed()
    {
        using var response = await _client.SendAsync(Authorized(HttpMethod.Get, "/redirect"));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(_upstream.RedirectTarget, response.Headers.Location?.OriginalString);
        Assert.Single(_upstream.Requests);
    }

    [Fact]
    public async Task Forward_Sse_ChunksArriveIncrementally()
    {
        using var response = await _client.SendAsync(Authorized(HttpMethod.Get, "/stream"), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var clock = Stopwatch.StartNew();
        var arrivals = new List<long>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                arrivals.Add(clock.ElapsedMilliseconds);
            }
        }

        Assert.Equal(4, arrivals.Count);
        Assert.True(arrivals[^1] - arrivals[0] >= 300, $"chunks arrived together: {string.Join(", ", arrivals)} ms");
    }

    [Fact]
    public async Task Forward_LimitReached_429Json()
    {
        _key = new AiKeyResponse { Found = false, LimitReached = true, CredentialId = "c1" };

        using var response = await _client.SendAsync(Authorized(HttpMethod.Get, "/models"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Contains("monthly limit", await response.Content.ReadAsStringAsync());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Forward_KeyRotated_NextRequestUsesNewKey()
    {
        await _client.SendAsync(Authorized(HttpMethod.Get, "/models"));
        _key = _key.Clone();
        _key.Secret = "sk-real-2";
        await _client.SendAsync(Authorized(HttpMethod.Get, "/models"));

        Assert.Equal(["Bearer sk-real-1", "Bearer sk-real-2"], _upstream.Requests.Select(r => r.Headers["authorization"]));
    }

    [Fact]
    public async Task Dispose_ProxyClosed_PlaceholderStopsWorking()
    {
        var url = _openAi.LocalBaseUrl + "/models";
        await _proxy.DisposeAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() => _client.GetAsync(url));
        _proxy = null!;
    }

    private HttpRequestMessage Authorized(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, _openAi.LocalBaseUrl + path);
        request.Headers.Add("Authorization", "Bearer " + _openAi.Placeholder);
        return request;
    }

    private async Task<string> RawAsync(string requestLine)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _openAi.Port);
        var text = $"{requestLine}\r\nHost: {_openAi.Authority}\r\nAuthorization: Bearer {_openAi.Placeholder}\r\nConnection: close\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(text));
        var buffer = new byte[4096];
        var read = await socket.ReceiveAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
        _upstreamClient.Dispose();
        _client.Dispose();
        await _upstream.DisposeAsync();
    }
}

internal static class AiKeyResponseExtensions
{
    public static AiKeyResponse WithBase(this AiKeyResponse key, string baseUrl)
    {
        key.BaseUrl = baseUrl;
        return key;
    }
}
