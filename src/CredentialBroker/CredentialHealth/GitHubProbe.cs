using System.Globalization;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// GitHub: GET {api}/user with a Bearer token (REST API "Get the authenticated user"). Classic
/// tokens list their scopes in X-OAuth-Scopes; fine-grained and classic tokens with an expiry send
/// GitHub-Authentication-Token-Expiration; X-RateLimit-* give the primary rate limit.
/// </summary>
internal sealed class GitHubProbe(Uri apiBase) : ProviderProbe
{
    public override Uri Endpoint => new Uri(apiBase, "user");

    public override async Task<ProbeOutcome> RunAsync(OutboundHttp http, ProbeTarget target, string secret, CancellationToken cancellationToken)
    {
        var url = Endpoint;
        var response = await http.GetAsync(url, request =>
        {
            Bearer(request, secret);
            request.Headers.Accept.ParseAdd("application/vnd.github+json");
            request.Headers.Add("X-GitHub-Api-Version", "2022-11-28");
        }, cancellationToken);
        if (!response.IsSuccess)
        {
            return Refusal(response, url.Host);
        }
        var user = Object(response.Body);
        var reset = Number(response.Header("X-RateLimit-Reset"));
        return ProbeOutcome.Success(new ProviderIdentity(
            String(user, "login"),
            String(user, "name"),
            List(response.Header("X-OAuth-Scopes")),
            response.Header("X-RateLimit-Limit") is null ? null
                : new RateLimitInfo(Number(response.Header("X-RateLimit-Limit")), Number(response.Header("X-RateLimit-Remaining")),
                    reset is { } seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null),
            Expiration(response.Header("GitHub-Authentication-Token-Expiration"))));
    }

    // GitHub writes it as "2023-03-10 16:11:47 UTC" (or with a numeric offset).
    private static DateTimeOffset? Expiration(string? text) =>
        text is null ? null
        : DateTimeOffset.TryParseExact(text.Replace(" UTC", " +00:00", StringComparison.Ordinal), "yyyy-MM-dd HH:mm:ss zzz",
            CultureInfo.InvariantCulture, DateTimeStyles.None, out var at) ? at.ToUniversalTime()
        : Time(text);
}
