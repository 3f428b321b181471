using System.Text.Json;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// GitLab: GET {origin}/api/v4/user with PRIVATE-TOKEN decides (it works for personal, project,
/// group and OAuth tokens); then GET /api/v4/personal_access_tokens/self, which access tokens
/// answer with their scopes and expiry (OAuth tokens don't — the identity simply has no scopes).
/// RateLimit-* headers where the instance sends them.
/// </summary>
internal sealed class GitLabProbe(Uri apiBase) : ProviderProbe
{
    public override Uri Endpoint => new Uri(apiBase, "user");

    public override async Task<ProbeOutcome> RunAsync(OutboundHttp http, ProbeTarget target, string secret, CancellationToken cancellationToken)
    {
        void Authorize(HttpRequestMessage request)
        {
            request.Headers.Add("PRIVATE-TOKEN", secret);
            Json(request);
        }
        var userUrl = Endpoint;
        var response = await http.GetAsync(userUrl, Authorize, cancellationToken);
        if (!response.IsSuccess)
        {
            return Refusal(response, userUrl.Host);
        }
        var user = Object(response.Body);
        var token = await http.GetAsync(new Uri(apiBase, "personal_access_tokens/self"), Authorize, cancellationToken);
        var self = token.IsSuccess ? Object(token.Body) : default;
        if (self.ValueKind == JsonValueKind.Object && self.TryGetProperty("active", out var active) && active.ValueKind == JsonValueKind.False)
        {
            return ProbeOutcome.Failure($"{userUrl.Host} reports the token inactive (revoked or expired)");
        }
        var reset = Number(response.Header("RateLimit-Reset"));
        return ProbeOutcome.Success(new ProviderIdentity(
            String(user, "username"),
            String(user, "name"),
            Scopes(self),
            response.Header("RateLimit-Limit") is null ? null
                : new RateLimitInfo(Number(response.Header("RateLimit-Limit")), Number(response.Header("RateLimit-Remaining")),
                    reset is { } seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null),
            Time(String(self, "expires_at"))));
    }

    private static List<string>? Scopes(JsonElement self) =>
        self.ValueKind == JsonValueKind.Object && self.TryGetProperty("scopes", out var scopes) && scopes.ValueKind == JsonValueKind.Array
            ? scopes.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.String).Select(s => s.GetString()!).Take(50).ToList()
            : null;
}
