using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Xares.Protos.Sidecar.V1;

namespace Xares.Sidecar.Ai.Proxy;

/// <summary>
/// Relays a WebSocket the tool opened through the proxy (OpenAI's Responses API WebSocket mode,
/// which Codex CLI uses first). The tool's handshake has passed <see cref="ProxyGuard"/> (its
/// placeholder, Host, path); the upstream handshake goes out through the proxy's one upstream
/// client (same connection and TLS rules as forwarded HTTP) with the real key, and only once it
/// succeeded is the tool's socket accepted. Messages are then relayed frame by frame both ways
/// until either side closes; each side's pings are answered at its own hop.
/// </summary>
internal sealed class WebSocketRelay(HttpMessageInvoker upstream, UsageReporter usage)
{
    /// <summary>A message (in any number of frames) larger than this closes both sides with 1009.</summary>
    public const int MaxMessageBytes = 64 * 1024 * 1024;

    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    // Never sent upstream: the tool's side of the handshake (ClientWebSocket makes its own), transport
    // headers, every auth header (the real key is added), and what only concerns the tool's side.
    private static readonly HashSet<string> DroppedRequestHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Upgrade", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Expect", "Content-Length", "Accept-Encoding",
        "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol",
        "Authorization", "x-api-key", "x-goog-api-key", "api-key", "Cookie", "Origin", "Referer",
    };

    private static readonly HashSet<string> DroppedResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Upgrade", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Content-Length", "Date", "Server",
        "Sec-WebSocket-Accept", "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol", "Set-Cookie", "Alt-Svc",
    };

    public static bool IsWebSocketRequest(HttpContext context) => context.WebSockets.IsWebSocketRequest;

    /// <summary>Which routes have a WebSocket API to relay: OpenAI's Responses API only; every other upgrade is refused locally.</summary>
    public static bool Offers(ProxyRoute route, string rawPath) =>
        route.Provider.Id == "openai" && rawPath == route.Provider.LocalPrefix + "/responses";

    /// <summary>Opens the upstream socket and relays until both sides are closed; a refusal when the upstream handshake failed.</summary>
    public async Task<Refusal?> RelayAsync(HttpContext context, ProxyRoute route, Uri target, AiKeyResponse key)
    {
        var cancellationToken = context.RequestAborted;
        using var upstreamSocket = new ClientWebSocket();
        var options = upstreamSocket.Options;
        options.CollectHttpResponseDetails = true;
        options.KeepAliveInterval = KeepAlive;
        foreach (var header in context.Request.Headers)
        {
            if (!DroppedRequestHeaders.Contains(header.Key))
            {
                try
                {
                    options.SetRequestHeader(header.Key, header.Value.ToString());
                }
                catch (ArgumentException)
                {
                    // A header .NET will not send as given is dropped, as the HTTP path drops invalid ones.
                }
            }
        }
        foreach (var protocol in context.WebSockets.WebSocketRequestedProtocols)
        {
            options.AddSubProtocol(protocol);
        }
        options.SetRequestHeader("Authorization", "Bearer " + key.Secret);
        try
        {
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            handshake.CancelAfter(HandshakeTimeout);
            await upstreamSocket.ConnectAsync(ToWebSocketUri(target), upstream, handshake.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Refusal(StatusCodes.Status504GatewayTimeout, "upstream_timeout",
                $"xares: {route.Provider.Id} at {target.GetLeftPart(UriPartial.Authority)} did not answer the WebSocket handshake within {HandshakeTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException)
        {
            var status = (int)upstreamSocket.HttpStatusCode;
            // A provider or gateway without WebSocket mode answers 404, 405 or 501 as often as 426; the
            // tool gets 426 for all of them, which sends Codex to HTTP at once instead of after retries.
            return status >= 400
                ? new Refusal(status is 404 or 405 or 501 ? StatusCodes.Status426UpgradeRequired : status, "upstream_refused_websocket",
                    $"xares: {route.Provider.Id} at {target.GetLeftPart(UriPartial.Authority)} refused the WebSocket handshake ({status}); use plain HTTP")
                : new Refusal(StatusCodes.Status502BadGateway, "upstream_unreachable",
                    $"xares: {route.Provider.Id} at {target.GetLeftPart(UriPartial.Authority)} did not open a WebSocket: {ex.Message}");
        }
        foreach (var (name, values) in upstreamSocket.HttpResponseHeaders ?? new Dictionary<string, IEnumerable<string>>())
        {
            if (!DroppedResponseHeaders.Contains(name) && !name.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }
        using var downstreamSocket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = upstreamSocket.SubProtocol,
            KeepAliveInterval = KeepAlive,
        });
        await new RelayedSocket(downstreamSocket, upstreamSocket, route, key, usage).RunAsync(cancellationToken);
        return null;
    }

    private static Uri ToWebSocketUri(Uri target) => new UriBuilder(target)
    {
        Scheme = target.Scheme == Uri.UriSchemeHttps ? Uri.UriSchemeWss : Uri.UriSchemeWs,
    }.Uri;
}
