using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xares.Broker.CredentialHealth;
using Xares.GitTargets;

namespace Xares.Broker.Connections;

/// <summary>What a device authorization request (RFC 8628 §3.2) answered.</summary>
internal sealed record DeviceAuthorization(string DeviceCode, string UserCode, string VerificationUri, string? VerificationUriComplete, TimeSpan ExpiresIn, TimeSpan Interval)
{
    public override string ToString() => $"{nameof(DeviceAuthorization)} {{ DeviceCode = [redacted], UserCode = {UserCode}, VerificationUri = {VerificationUri} }}";
}

/// <summary>
/// A token endpoint answer: tokens, or an OAuth error code (<see cref="Error"/>, e.g.
/// authorization_pending, slow_down, invalid_grant), or a transport failure
/// (<see cref="Transient"/>: unreachable, timeout, 5xx, 429). <see cref="Problem"/> never holds a token.
/// </summary>
internal sealed record TokenAnswer(TokenPair? Tokens, TimeSpan? ExpiresIn, string? Error, string? Problem, bool Transient)
{
    public static TokenAnswer Failed(string? error, string problem, bool transient) => new(null, null, error, problem, transient);

    public override string ToString() => $"{nameof(TokenAnswer)} {{ Tokens = {(Tokens is null ? "none" : "[redacted]")}, Error = {Error}, Problem = {Problem} }}";
}

/// <summary>
/// The OAuth 2.0 endpoints a connection uses — device authorization (RFC 8628), token (RFC 6749:
/// device_code, authorization_code with PKCE and refresh_token grants), revocation (RFC 7009) and an optional userinfo check —
/// through the broker's rule-j outbound client. JSON is asked for (GitHub answers form-encoded
/// otherwise) and an error in a 200 body is an error (GitHub answers device errors with 200).
/// </summary>
internal sealed class OAuthClient(OutboundAllowList allow) : IDisposable
{
    public const string DeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";
    private readonly OutboundHttp _http = new(allow);

    public async Task<(DeviceAuthorization? Value, string? Problem)> StartDeviceAsync(OAuthProviderRecord provider, string clientSecret, CancellationToken cancellationToken)
    {
        var form = new Dictionary<string, string>();
        if (provider.Scopes.Length > 0)
        {
            form["scope"] = provider.Scopes;
        }
        var response = await PostFormAsync(provider, clientSecret, new Uri(provider.DeviceAuthorizationUrl!), form, cancellationToken);
        if (response.Error is not null)
        {
            return (null, "the device authorization endpoint could not be reached: " + response.Error);
        }
        if (!TryParse(response.Body, out var root))
        {
            return (null, $"the device authorization endpoint answered HTTP {response.Status} without JSON");
        }
        using var _ = root;
        var json = root.RootElement;
        if (Text(json, "error") is { } error)
        {
            return (null, $"the device authorization endpoint refused: {Safe(error)}{Description(json)}");
        }
        var deviceCode = Text(json, "device_code");
        var userCode = Text(json, "user_code");
        var verification = Text(json, "verification_uri") ?? Text(json, "verification_url");
        if (!response.IsSuccess || deviceCode is null || userCode is null || verification is null || !ProtocolText.IsSafe(userCode) || userCode.Length > 64
            || !Uri.TryCreate(verification, UriKind.Absolute, out var verificationUri) || verificationUri.Scheme is not ("https" or "http"))
        {
            return (null, $"the device authorization endpoint answered HTTP {response.Status} without device_code, user_code and verification_uri");
        }
        var complete = Text(json, "verification_uri_complete") is { } c && Uri.TryCreate(c, UriKind.Absolute, out var cu) && cu.Scheme is "https" or "http" ? c : null;
        var expiresIn = Seconds(json, "expires_in") ?? TimeSpan.FromMinutes(15);
        var interval = Seconds(json, "interval") ?? TimeSpan.FromSeconds(5);
        return (new DeviceAuthorization(deviceCode, userCode, verification, complete, expiresIn, interval < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : interval), null);
    }

    public Task<TokenAnswer> PollDeviceAsync(OAuthProviderRecord provider, string clientSecret, string deviceCode, CancellationToken cancellationToken) =>
        TokenAsync(provider, clientSecret, new Dictionary<string, string> { ["grant_type"] = DeviceCodeGrant, ["device_code"] = deviceCode }, null, cancellationToken);

    public Task<TokenAnswer> RefreshAsync(OAuthProviderRecord provider, string clientSecret, string refreshToken, CancellationToken cancellationToken) =>
        TokenAsync(provider, clientSecret, new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken }, refreshToken, cancellationToken);

    /// <summary>The authorization_code grant (RFC 6749 §4.1.3) with the PKCE verifier (RFC 7636) and the redirect URI the code was issued to.</summary>
    public Task<TokenAnswer> ExchangeCodeAsync(OAuthProviderRecord provider, string clientSecret, string code, string codeVerifier, string redirectUri,
        CancellationToken cancellationToken) =>
        TokenAsync(provider, clientSecret, new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = redirectUri, ["code_verifier"] = codeVerifier,
        }, null, cancellationToken);

    private async Task<TokenAnswer> TokenAsync(OAuthProviderRecord provider, string clientSecret, Dictionary<string, string> form, string? previousRefresh,
        CancellationToken cancellationToken)
    {
        var response = await PostFormAsync(provider, clientSecret, new Uri(provider.TokenUrl), form, cancellationToken);
        if (response.Error is not null)
        {
            return TokenAnswer.Failed(null, "the token endpoint could not be reached: " + response.Error, transient: true);
        }
        if (response.Status >= 500 || response.Status == 429)
        {
            return TokenAnswer.Failed(null, $"the token endpoint answered HTTP {response.Status}", transient: true);
        }
        if (!TryParse(response.Body, out var document))
        {
            return TokenAnswer.Failed(null, $"the token endpoint answered HTTP {response.Status} without JSON", transient: response.IsSuccess);
        }
        using var _ = document;
        var json = document.RootElement;
        if (Text(json, "error") is { } error)
        {
            return TokenAnswer.Failed(Safe(error), $"the token endpoint answered {Safe(error)}{Description(json)}", transient: false);
        }
        var access = Text(json, "access_token");
        if (!response.IsSuccess || access is null || !Usable(access))
        {
            return TokenAnswer.Failed(null, $"the token endpoint answered HTTP {response.Status} without a usable access_token", transient: false);
        }
        // A provider that does not rotate refresh tokens keeps the one it had (RFC 6749 §6).
        var refresh = Text(json, "refresh_token") is { } r && Usable(r) ? r : previousRefresh;
        return new TokenAnswer(new TokenPair(access, refresh), Seconds(json, "expires_in"), null, null, false);
    }

    /// <summary>RFC 7009: true when the provider accepted (200) or no longer knows the token; otherwise why, and whether to retry.</summary>
    public async Task<(bool Done, string? Problem)> RevokeAsync(OAuthProviderRecord provider, string clientSecret, string token, string tokenTypeHint,
        CancellationToken cancellationToken)
    {
        var response = await PostFormAsync(provider, clientSecret, new Uri(provider.RevocationUrl!),
            new Dictionary<string, string> { ["token"] = token, ["token_type_hint"] = tokenTypeHint }, cancellationToken);
        if (response.Error is not null)
        {
            return (false, "the revocation endpoint could not be reached: " + response.Error);
        }
        if (response.IsSuccess)
        {
            return (true, null);
        }
        var error = TryParse(response.Body, out var document) ? Text(document.RootElement, "error") : null;
        document?.Dispose();
        // unsupported_token_type: the provider cannot revoke this kind; retrying will not change that.
        return error == "unsupported_token_type"
            ? (true, "the provider does not revoke " + tokenTypeHint + "s")
            : (false, $"the revocation endpoint answered HTTP {response.Status}" + (error is null ? "" : $" ({Safe(error)})"));
    }

    /// <summary>GET the userinfo endpoint with the access token: null when it accepted it, else why.</summary>
    public async Task<string?> CheckAccessTokenAsync(OAuthProviderRecord provider, string accessToken, CancellationToken cancellationToken)
    {
        var response = await _http.GetAsync(new Uri(provider.UserInfoUrl!), request =>
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        }, cancellationToken);
        return response.Error is not null ? "the userinfo endpoint could not be reached: " + response.Error
            : response.IsSuccess ? null : $"the userinfo endpoint answered HTTP {response.Status}";
    }

    private Task<OutboundResponse> PostFormAsync(OAuthProviderRecord provider, string clientSecret, Uri url, Dictionary<string, string> form,
        CancellationToken cancellationToken) =>
        _http.SendAsync(HttpMethod.Post, url, request =>
        {
            if (provider.ClientAuth == OAuthClientAuth.Basic)
            {
                // RFC 6749 §2.3.1: both parts form-encoded before Basic.
                var pair = Uri.EscapeDataString(provider.ClientId) + ":" + Uri.EscapeDataString(clientSecret);
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
            }
            else
            {
                form["client_id"] = provider.ClientId;
                if (clientSecret.Length > 0)
                {
                    form["client_secret"] = clientSecret;
                }
            }
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Content = new FormUrlEncodedContent(form);
        }, cancellationToken);

    private static bool TryParse(byte[] body, out JsonDocument document)
    {
        try
        {
            document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            document = null!;
            return false;
        }
    }

    private static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private static TimeSpan? Seconds(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && (value.ValueKind == JsonValueKind.Number ? value.TryGetInt64(out var n)
            : value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out n)) && n > 0 && n < 10_000_000
            ? TimeSpan.FromSeconds(n) : null;

    // Any length and alphabet; only what git's protocol cannot carry is refused.
    private static bool Usable(string token) => ProtocolText.IsSafe(token) && !token.Any(char.IsWhiteSpace) && token.Length <= 8192;

    // Error codes are ASCII words (RFC 6749 §5.2); anything else is not repeated.
    internal static string Safe(string code) => code.Length <= 64 && code.All(ch => ch is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' or '-' or '.')
        ? code : "an unreadable error code";

    private static string Description(JsonElement json) =>
        Text(json, "error_description") is { } d && d.Length <= 200 && d.All(ch => ch >= ' ' && ch < 127) ? $" ({d})" : "";

    public void Dispose() => _http.Dispose();
}

internal static class OAuthClientAuth
{
    public const string Basic = "basic";
    public const string Post = "post";
}
