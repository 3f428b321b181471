using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// Asks one provider's documented "who am I" endpoint whether a secret works. Subclasses build
/// the request (URL from the credential's destination, the provider's auth header) and read the
/// identity; the verdict on status codes is shared. Reasons quote status codes and hosts, never
/// a response body: providers echo (masked) keys in their error messages.
/// </summary>
internal abstract class ProviderProbe
{
    /// <summary>The URL the probe asks (without the secret, which travels in a header).</summary>
    public abstract Uri Endpoint { get; }

    public abstract Task<ProbeOutcome> RunAsync(OutboundHttp http, ProbeTarget target, string secret, CancellationToken cancellationToken);

    /// <summary>The shared verdict on a response that is not a 2xx (or never came).</summary>
    protected static ProbeOutcome Refusal(OutboundResponse response, string host) => ProbeOutcome.Failure(response switch
    {
        { Error: { } error } => error,
        { Status: 401 } => $"{host} rejected the secret (HTTP 401): it is invalid, expired or revoked",
        { Status: 403 } => $"{host} refused the secret (HTTP 403): it may lack a scope, or be blocked",
        { Status: 404 } => $"{host} answered HTTP 404: the API is not where the credential's URL says it is",
        { Status: 429 } => $"{host} is rate limiting (HTTP 429); the secret could not be checked",
        { Status: >= 500 } => $"{host} failed (HTTP {response.Status}); the secret could not be checked",
        _ => $"{host} answered HTTP {response.Status}",
    });

    protected static void Bearer(HttpRequestMessage request, string secret) =>
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);

    protected static void Basic(HttpRequestMessage request, string username, string secret) =>
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{secret}")));

    protected static void Json(HttpRequestMessage request) =>
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

    /// <summary>The body as a JSON object, or default when it is not one.</summary>
    protected static JsonElement Object(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : default;
        }
        catch (JsonException)
        {
            return default;
        }
    }

    protected static string? String(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? Clip(value.GetString())
            : null;

    protected static long? Number(string? text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    protected static DateTimeOffset? Time(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value.ToUniversalTime() : null;

    protected static IReadOnlyList<string>? List(string? commaSeparated) =>
        commaSeparated is null ? null : commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => Clip(s)!).ToList();

    // A hostile provider could answer with megabytes of login; identities are small.
    private static string? Clip(string? value) => value is { Length: > 200 } ? value[..200] : value;
}

/// <summary>What a probe needs of a credential: provider, destination and username (never the secret).</summary>
internal sealed record ProbeTarget(string Kind, string Provider, string? Url, string? Username);
