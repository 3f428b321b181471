using System.Net;
using System.Net.WebSockets;
using System.Text;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Ai.Proxy;
using Xares.Sidecar.Tests.Fakes;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Tests.Ai.Proxy;

public sealed class WebSocketRelayTests : IAsyncLifetime
{
    private const string Create = """{"type":"response.create","model":"gpt-test","input":"Say hello"}""";
    private readonly List<AiUsageRequest> _reports = [];
    private FakeProvider _upstream = null!;
    private HttpClient _upstreamClient = null!;
    private AiProxy? _proxy;
    private AiKeyResponse _key = null!;
    private ProxyRoute _openAi = null!;
    private ProxyRoute _anthropic = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeProvider.StartAsync();
        _key = new AiKeyResponse { Found = true, Secret = "sk-real-1", LeaseId = "lease_1", BaseUrl = _upstream.BaseUrl + "/v1" };
        _openAi = new ProxyRoute(ToolCatalogue.FindProvider("openai")!, "c1", _ => Task.FromResult(_key));
        _anthropic = new ProxyRoute(ToolCatalogue.FindProvider("anthropic")!, "c2", _ => Task.FromResult(_key.Clone().WithBase(_upstream.BaseUrl)));
        _upstreamClient = ProxyForwarder.CreateUpstreamClient();
        var usage = new UsageReporter((report, _) =>
        {
            lock (_reports)
            {
                _reports.Add(report);
            }
            return Task.FromResult(false);
        });
        _proxy = await AiProxy.StartAsync([_openAi, _anthropic], new ProxyForwarder(_upstreamClient, usage), usage);
    }

    [Fact]
    public async Task Relay_ResponsesWebSocket_RealKeyOnUpstreamHandshakeEventsBothWaysUsageCounted()
    {
        using var socket = Client(_openAi.Placeholder);
        socket.Options.SetRequestHeader("OpenAI-Beta", "responses_websockets=2026-02-06");

        await socket.ConnectAsync(new Uri($"ws://{_openAi.Authority}/v1/responses"), CancellationToken.None);
        await SendAsync(socket, Create);
        var events = await ReceiveUntilAsync(socket, "response.completed");
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        Assert.Contains(events, e => e.Contains("Hello over the socket", StringComparison.Ordinal));
        Assert.Equal("etag-1", socket.HttpResponseHeaders!["x-models-etag"].Single());
        var handshake = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1/responses", handshake.PathAndQuery);
        Assert.Equal("Bearer sk-real-1", handshake.Headers["authorization"]);
        Assert.Equal("responses_websockets=2026-02-06", handshake.Headers["openai-beta"]);
        Assert.DoesNotContain(handshake.Headers.Values, v => v.Contains(_openAi.Placeholder, StringComparison.Ordinal));
        Assert.Equal([Create], _upstream.SocketMessages);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal("closed NormalClosure", await _upstream.SocketEnded.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        await Until.TrueAsync(() => { lock (_reports) { return _reports.Sum(r => r.Requests) == 1; } }, what: "usage reported");
        lock (_reports)
        {
            Assert.Equal(("lease_1", 5L, 2L), (_reports[0].LeaseId, _reports[0].InputTokens, _reports[0].OutputTokens));
        }
    }

    [Fact]
    public async Task Relay_CreateSplitAcrossFrames_RelayedWholeAndCountedOnce()
    {
        using var socket = Client(_openAi.Placeholder);
        await socket.ConnectAsync(new Uri($"ws://{_openAi.Authority}/v1/responses"), CancellationToken.None);
        var bytes = Encoding.UTF8.GetBytes(Create);

        // The first frame ends before the type does.
        await socket.SendAsync(bytes.AsMemory(0, 5), WebSocketMessageType.Text, false, CancellationToken.None);
        await Task.Delay(100);
        await socket.SendAsync(bytes.AsMemory(5), WebSocketMessageType.Text, true, CancellationToken.None);
        await ReceiveUntilAsync(socket, "response.completed");
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        Assert.Equal([Create], _upstream.SocketMessages);
        await Until.TrueAsync(() => { lock (_reports) { return _reports.Sum(r => r.Requests) == 1; } }, what: "usage reported");
        await Task.Delay(300);
        lock (_reports)
        {
            Assert.Equal(1, _reports.Sum(r => r.Requests));
            Assert.Equal(5, _reports.Sum(r => r.InputTokens));
        }
    }

    [Fact]
    public async Task Relay_WrongPlaceholder_401WithoutContactingUpstream()
    {
        using var socket = Client("xares-placeholder-wrong");

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://{_openAi.Authority}/v1/responses"), CancellationToken.None));

        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData("anthropic", "/v1/messages")]
    [InlineData("openai", "/v1/chat/completions")]
    public async Task Relay_NoWebSocketThere_426LocallyWithoutContactingUpstream(string provider, string path)
    {
        var route = provider == "openai" ? _openAi : _anthropic;
        using var socket = Client(route.Placeholder);
        socket.Options.SetRequestHeader("x-api-key", route.Placeholder);

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://{route.Authority}{path}"), CancellationToken.None));

        Assert.Equal(HttpStatusCode.UpgradeRequired, socket.HttpStatusCode);
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData(426, HttpStatusCode.UpgradeRequired)]
    [InlineData(404, HttpStatusCode.UpgradeRequired)]
    [InlineData(501, HttpStatusCode.UpgradeRequired)]
    [InlineData(401, HttpStatusCode.Unauthorized)]
    [InlineData(429, HttpStatusCode.TooManyRequests)]
    public async Task Relay_UpstreamRefusesHandshake_NoWebSocketModeIs426OthersPassedBack(int upstreamStatus, HttpStatusCode expected)
    {
        _upstream.RefuseWebSocketsWith = upstreamStatus;
        using var socket = Client(_openAi.Placeholder);

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://{_openAi.Authority}/v1/responses"), CancellationToken.None));

        // 426 is what sends Codex to its HTTP fallback at once.
        Assert.Equal(expected, socket.HttpStatusCode);
        Assert.Single(_upstream.Requests);
    }

    [Fact]
    public async Task Relay_KeyRevokedWhileOpen_NextCreateGetsErrorEventAndBothSidesClose()
    {
        using var socket = Client(_openAi.Placeholder);
        await socket.ConnectAsync(new Uri($"ws://{_openAi.Authority}/v1/responses"), CancellationToken.None);
        await SendAsync(socket, Create);
        await ReceiveUntilAsync(socket, "response.completed");

        _key = new AiKeyResponse { Found = false, CredentialId = "c1" };
        await SendAsync(socket, Create);
        var events = await ReceiveUntilAsync(socket, "error");

        Assert.Contains("\"status\":403", events[^1], StringComparison.Ordinal);
        Assert.Contains("no_credential", events[^1], StringComparison.Ordinal);
        Assert.Equal(WebSocketMessageType.Close, (await socket.ReceiveAsync(new byte[1024], CancellationToken.None)).MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
        Assert.Single(_upstream.SocketMessages);
        Assert.StartsWith("closed", await _upstream.SocketEnded.Task.WaitAsync(TimeSpan.FromSeconds(5)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Relay_KeyRotatedWhileOpen_BothSidesCloseSoTheToolReconnectsWithTheNewKey()
    {
        using var socket = Client(_openAi.Placeholder);
        await socket.ConnectAsync(new Uri($"ws://{_openAi.Authority}/v1/responses"), CancellationToken.None);

        _key = new AiKeyResponse { Found = true, Secret = "sk-real-2", LeaseId = "lease_2", BaseUrl = _key.BaseUrl };
        await SendAsync(socket, Create);
        var result = await socket.ReceiveAsync(new byte[1024], new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        Assert.Empty(_upstream.SocketMessages);
        using var again = Client(_openAi.Placeholder);
        await again.ConnectAsync(new Uri($"ws://{_openAi.Authority}/v1/responses"), CancellationToken.None);
        Assert.Equal("Bearer sk-real-2", _upstream.Requests.Last().Headers["authorization"]);
    }

    [Fact]
    public async Task Relay_ProxyClosed_BothSidesEnd()
    {
        var socket = Client(_openAi.Placeholder);
        await socket.ConnectAsync(new Uri($"ws://{_openAi.Authority}/v1/responses"), CancellationToken.None);

        await _proxy!.DisposeAsync();
        _proxy = null;

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var result = await socket.ReceiveAsync(new byte[1024], CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketException("closed");
            }
        });
        Assert.NotNull(await _upstream.SocketEnded.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        socket.Dispose();
    }

    private static ClientWebSocket Client(string placeholder)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + placeholder);
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json).AsMemory(), WebSocketMessageType.Text, true, CancellationToken.None).AsTask();

    /// <summary>Text events up to and including the first whose type is <paramref name="type"/>.</summary>
    private static async Task<List<string>> ReceiveUntilAsync(ClientWebSocket socket, string type)
    {
        var events = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            Assert.True(result.EndOfMessage);
            var text = Encoding.UTF8.GetString(buffer, 0, result.Count);
            events.Add(text);
            if (text.StartsWith($"{{\"type\":\"{type}\"", StringComparison.Ordinal))
            {
                return events;
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
        _upstreamClient.Dispose();
        await _upstream.DisposeAsync();
    }
}
