using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Ai.Proxy;

/// <summary>
/// Handles one proxied request: guard, current key, upstream request built from the credential's
/// base URL with the real key added the provider's way, response streamed back as it arrives
/// (no redirect followed), usage counted; a WebSocket the guard let through goes to <see cref="WebSocketRelay"/>.
/// </summary>
internal sealed class ProxyForwarder(HttpClient upstream, UsageReporter usage)
{
    // Never forwarded: transport-level headers, every provider's auth header, and what only
    // concerns the tool's side of the connection. Accept-Encoding: the upstream client decompresses.
    private static readonly HashSet<string> DroppedRequestHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Expect",
        "Authorization", "x-api-key", "x-goog-api-key", "api-key",
        "Accept-Encoding", "Cookie", "Origin", "Referer",
    };

    private static readonly HashSet<string> DroppedResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Set-Cookie", "Alt-Svc",
    };

    private readonly WebSocketRelay _webSockets = new(upstream, usage);
    private Dictionary<int, ProxyRoute> _routes = [];

    public void Bind(IReadOnlyList<ProxyRoute> routes) => _routes = routes.ToDictionary(r => r.Port);

    public async Task HandleAsync(HttpContext context)
    {
        if (!_routes.TryGetValue(context.Connection.LocalPort, out var route))
        {
            await WriteErrorAsync(context, new Refusal(StatusCodes.Status503ServiceUnavailable, "not_ready", "the proxy is not ready"));
            return;
        }
        if (ProxyGuard.Check(context, route) is { } refusal)
        {
            if (refusal.Status == StatusCodes.Status426UpgradeRequired)
            {
                context.Response.Headers.Connection = "close";
            }
            await WriteErrorAsync(context, refusal);
            return;
        }
        var cancellationToken = context.RequestAborted;
        AiKeyResponse key;
        try
        {
            key = await route.GetKeyAsync(cancellationToken);
        }
        catch (SidecarException ex)
        {
            await WriteErrorAsync(context, new Refusal(StatusCodes.Status502BadGateway, "xares_unavailable", $"xares: {ex.Message}"));
            return;
        }
        if (!key.Found)
        {
            await WriteErrorAsync(context, key.LimitReached
                ? new Refusal(StatusCodes.Status429TooManyRequests, "monthly_limit_reached",
                    $"xares: the {route.Provider.Id} credential {key.CredentialId} has reached its monthly limit{(key.MonthlyLimit > 0 ? $" of {key.MonthlyLimit} requests" : "")}; ask your platform admin to raise it")
                : new Refusal(StatusCodes.Status403Forbidden, "no_credential", $"xares: no {route.Provider.Id} credential is available to this workspace any more"));
            return;
        }
        var rawTarget = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var baseUrl = key.BaseUrl.Length > 0 ? key.BaseUrl : route.Provider.DefaultBaseUrl;
        var target = UpstreamUrl.Build(baseUrl, route.Provider.LocalPrefix, ProxyGuard.RawPath(rawTarget), ProxyGuard.RawQuery(rawTarget));
        if (target is null)
        {
            await WriteErrorAsync(context, new Refusal(StatusCodes.Status404NotFound, "not_found",
                $"this proxy serves paths under {(route.Provider.LocalPrefix.Length == 0 ? "/" : route.Provider.LocalPrefix + "/")}"));
            return;
        }
        if (WebSocketRelay.IsWebSocketRequest(context))
        {
            if (await _webSockets.RelayAsync(context, route, target, key) is { } webSocketRefusal)
            {
                await WriteErrorAsync(context, webSocketRefusal);
            }
            return;
        }
        using var request = BuildRequest(context.Request, target, route.Provider.KeyStyle, key.Secret);
        HttpResponseMessage response;
        try
        {
            response = await upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            await WriteErrorAsync(context, new Refusal(StatusCodes.Status502BadGateway, "upstream_unreachable",
                $"xares: {route.Provider.Id} at {target.GetLeftPart(UriPartial.Authority)} is unreachable: {ex.Message}"));
            return;
        }
        using (response)
        {
            var tokens = await RelayAsync(context, response, cancellationToken);
            usage.Add(key.LeaseId, tokens);
        }
    }

    private static HttpRequestMessage BuildRequest(HttpRequest incoming, Uri target, KeyStyle style, string secret)
    {
        var request = new HttpRequestMessage(new HttpMethod(incoming.Method), target) { Version = new Version(1, 1) };
        if (incoming.ContentLength > 0 || incoming.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(incoming.Body);
        }
        foreach (var header in incoming.Headers)
        {
            if (DroppedRequestHeaders.Contains(header.Key))
            {
                continue;
            }
            if (!request.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string?>)header.Value))
            {
                request.Content?.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string?>)header.Value);
            }
        }
        switch (style)
        {
            case KeyStyle.Bearer:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
                break;
            case KeyStyle.XApiKey:
                request.Headers.TryAddWithoutValidation("x-api-key", secret);
                break;
            case KeyStyle.GoogApiKey:
                request.Headers.TryAddWithoutValidation("x-goog-api-key", secret);
                break;
        }
        return request;
    }

    /// <summary>Streams the response back chunk by chunk, keeping a copy of a small JSON body to count tokens.</summary>
    private static async Task<TokenCounts> RelayAsync(HttpContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var outgoing = context.Response;
        outgoing.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (!DroppedResponseHeaders.Contains(header.Key) && !header.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase))
            {
                outgoing.Headers[header.Key] = header.Value.ToArray();
            }
        }
        var parse = UsageMeter.ShouldParse(response.Content.Headers.ContentType?.MediaType, response.Content.Headers.ContentLength);
        var copy = parse ? new MemoryStream() : null;
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await outgoing.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            await outgoing.Body.FlushAsync(cancellationToken);
            if (copy is not null)
            {
                if (copy.Length + read > UsageMeter.MaxParsedBytes)
                {
                    copy = null;
                }
                else
                {
                    copy.Write(buffer, 0, read);
                }
            }
        }
        return copy is null ? default : UsageMeter.Parse(copy.GetBuffer().AsSpan(0, (int)copy.Length));
    }

    private static async Task WriteErrorAsync(HttpContext context, Refusal refusal)
    {
        context.Response.StatusCode = refusal.Status;
        context.Response.ContentType = "application/json";
        // One shape both OpenAI-style and Anthropic-style clients read: {type, error: {type, code, message}}.
        using var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "error");
            writer.WriteStartObject("error");
            writer.WriteString("type", refusal.Code);
            writer.WriteString("code", refusal.Code);
            writer.WriteString("message", refusal.Message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        await context.Response.Body.WriteAsync(buffer.ToArray());
    }

    /// <summary>The one upstream client: no redirects followed, no cookies, responses streamed (no overall timeout: SSE may run long).</summary>
    public static HttpClient CreateUpstreamClient() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.All,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
}
