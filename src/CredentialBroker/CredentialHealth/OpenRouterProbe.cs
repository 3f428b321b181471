using System.Globalization;
using System.Text.Json;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// OpenRouter: GET {base}/key ("Get current API key", Bearer). Its model list is public and
/// would accept any key, so it proves nothing; /key answers 401 for a bad key and describes a
/// good one (label, credit limit, expiry).
/// </summary>
internal sealed class OpenRouterProbe(Uri keyUrl) : ProviderProbe
{
    public override Uri Endpoint => keyUrl;

    public override async Task<ProbeOutcome> RunAsync(OutboundHttp http, ProbeTarget target, string secret, CancellationToken cancellationToken)
    {
        var response = await http.GetAsync(keyUrl, request =>
        {
            Bearer(request, secret);
            Json(request);
        }, cancellationToken);
        if (!response.IsSuccess)
        {
            return Refusal(response, keyUrl.Host);
        }
        var root = Object(response.Body);
        var data = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var d) ? d : default;
        RateLimitInfo? rate = null;
        if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("rate_limit", out var limit) && limit.ValueKind == JsonValueKind.Object
            && limit.TryGetProperty("requests", out var requests) && requests.TryGetInt64(out var perInterval))
        {
            rate = new RateLimitInfo(perInterval, null, null);
        }
        return ProbeOutcome.Success(new ProviderIdentity(String(data, "label"), RateLimit: rate, ExpiresAt: Time(String(data, "expires_at"))));
    }
}
