using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Ai.Proxy;

/// <summary>A refusal: status code, a stable code and a message for the tool.</summary>
internal sealed record Refusal(int Status, string Code, string Message);

/// <summary>
/// What a request must look like before the proxy touches a key: no CONNECT, no protocol upgrade
/// but a WebSocket where <see cref="WebSocketRelay"/> relays one, its own Host exactly, no Origin
/// (so no browser page can reach it, even by DNS rebinding), origin-form targets only, no dot
/// segments or encoded slashes, and the run's placeholder in the provider's auth header.
/// </summary>
internal static class ProxyGuard
{
    public static Refusal? Check(HttpContext context, ProxyRoute route)
    {
        var request = context.Request;
        if (HttpMethods.IsConnect(request.Method))
        {
            return new(StatusCodes.Status405MethodNotAllowed, "method_not_allowed", "CONNECT is not supported by this proxy");
        }
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        // Never relayed as a plain request (it would carry the real key upstream for nothing): a
        // WebSocket where the provider has one is relayed as a WebSocket (WebSocketRelay); anything
        // else is 426, which makes Codex drop its Responses WebSocket and use HTTP at once.
        if ((request.Headers.Upgrade.Count > 0 || context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true) &&
            !(HttpMethods.IsGet(request.Method) && WebSocketRelay.IsWebSocketRequest(context) && WebSocketRelay.Offers(route, RawPath(rawTarget))))
        {
            return new(StatusCodes.Status426UpgradeRequired, "upgrade_required",
                $"this proxy relays WebSockets only for OpenAI's Responses API (GET /v1/responses), not for {route.Provider.Id} {RawPath(rawTarget)}; use plain HTTP (streamed responses work)");
        }
        if (!rawTarget.StartsWith('/'))
        {
            return new(StatusCodes.Status400BadRequest, "bad_target", "only origin-form request targets (/path) are accepted");
        }
        if (request.Headers.Host.Count != 1 || !string.Equals(request.Headers.Host[0], route.Authority, StringComparison.Ordinal))
        {
            return new(StatusCodes.Status403Forbidden, "bad_host", $"this proxy answers only requests for Host {route.Authority}");
        }
        if (request.Headers.Origin.Count > 0)
        {
            return new(StatusCodes.Status403Forbidden, "origin_refused", "requests from web pages (with an Origin header) are refused");
        }
        if (UnsafePath(RawPath(rawTarget)) is { } problem)
        {
            return new(StatusCodes.Status400BadRequest, "bad_path", problem);
        }
        return PresentsPlaceholder(context, route)
            ? null
            : new(StatusCodes.Status401Unauthorized, "invalid_api_key",
                $"missing or wrong API key: use the placeholder key `xares-sidecar run` gave this tool ({PlaceholderHint(route.Provider.KeyStyle)})");
    }

    public static string RawPath(string rawTarget)
    {
        var query = rawTarget.IndexOf('?');
        return query < 0 ? rawTarget : rawTarget[..query];
    }

    public static string RawQuery(string rawTarget)
    {
        var query = rawTarget.IndexOf('?');
        return query < 0 ? "" : rawTarget[(query + 1)..];
    }

    internal static string? UnsafePath(string rawPath)
    {
        if (rawPath.Contains('\\') ||
            rawPath.Contains("%2f", StringComparison.OrdinalIgnoreCase) ||
            rawPath.Contains("%5c", StringComparison.OrdinalIgnoreCase) ||
            rawPath.Contains("%00", StringComparison.Ordinal))
        {
            return "encoded slashes, backslashes and NUL are not allowed in the path";
        }
        foreach (var segment in rawPath.Split('/'))
        {
            if (WebUtility.UrlDecode(segment) is "." or "..")
            {
                return "dot segments (. and ..) are not allowed in the path";
            }
        }
        return null;
    }

    private static bool PresentsPlaceholder(HttpContext context, ProxyRoute route)
    {
        var headers = context.Request.Headers;
        IEnumerable<string?> presented = route.Provider.KeyStyle switch
        {
            KeyStyle.Bearer => [Bearer(headers.Authorization)],
            KeyStyle.XApiKey => [Single(headers["x-api-key"]), Bearer(headers.Authorization)],
            KeyStyle.GoogApiKey => [Single(headers["x-goog-api-key"]), QueryKey(context.Request.Query)],
            _ => [],
        };
        var expected = Encoding.UTF8.GetBytes(route.Placeholder);
        return presented.Any(value => value is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(value), expected));
    }

    private static string? Single(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 1 ? values[0] : null;

    private static string? Bearer(Microsoft.Extensions.Primitives.StringValues values) =>
        Single(values) is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value["Bearer ".Length..].Trim() : null;

    private static string? QueryKey(IQueryCollection query) => query.TryGetValue("key", out var values) ? Single(values) : null;

    private static string PlaceholderHint(KeyStyle style) => style switch
    {
        KeyStyle.Bearer => "Authorization: Bearer",
        KeyStyle.XApiKey => "x-api-key",
        _ => "x-goog-api-key",
    };
}
