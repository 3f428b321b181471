namespace Xares.Broker.CredentialHealth;

/// <summary>
/// AI providers whose documented key check is listing models: OpenAI and Groq (GET {base}/models,
/// Bearer), Anthropic (GET {base}/v1/models, x-api-key and anthropic-version) and Google Gemini
/// (GET {base}/v1beta/models, x-goog-api-key — never the key in the URL). A model list names no
/// owner, so the identity is the rate limit the provider reports in its headers, if any.
/// </summary>
internal sealed class ModelListProbe(Uri modelsUrl, ModelListProbe.KeyStyle style) : ProviderProbe
{
    public enum KeyStyle
    {
        Bearer,
        Anthropic,
        Google,
    }

    public const string AnthropicVersion = "2023-06-01";

    public override Uri Endpoint => modelsUrl;

    public override async Task<ProbeOutcome> RunAsync(OutboundHttp http, ProbeTarget target, string secret, CancellationToken cancellationToken)
    {
        var response = await http.GetAsync(modelsUrl, request =>
        {
            switch (style)
            {
                case KeyStyle.Anthropic:
                    request.Headers.Add("x-api-key", secret);
                    request.Headers.Add("anthropic-version", AnthropicVersion);
                    break;
                case KeyStyle.Google:
                    request.Headers.Add("x-goog-api-key", secret);
                    break;
                default:
                    Bearer(request, secret);
                    break;
            }
            Json(request);
        }, cancellationToken);
        if (response.IsSuccess)
        {
            return ProbeOutcome.Success(RateLimit(response) is { } limit ? new ProviderIdentity(RateLimit: limit) : null);
        }
        // Gemini answers an invalid key with 400 API_KEY_INVALID rather than 401.
        return style == KeyStyle.Google && response is { Error: null, Status: 400 }
            ? ProbeOutcome.Failure($"{modelsUrl.Host} rejected the key (HTTP 400): it is invalid or restricted")
            : Refusal(response, modelsUrl.Host);
    }

    private RateLimitInfo? RateLimit(OutboundResponse response)
    {
        var (limit, remaining, reset) = style == KeyStyle.Anthropic
            ? ("anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset")
            : ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", null);
        return response.Header(limit) is null
            ? null
            : new RateLimitInfo(Number(response.Header(limit)), Number(response.Header(remaining)), reset is null ? null : Time(response.Header(reset)));
    }
}
