namespace Xares.Broker.Credentials;

/// <summary>
/// Where an AI credential's key is sent: its baseUrl, or the provider's public API when it has
/// none. Only the host and port matter to the broker (for a workspace's allowedHosts); the
/// sidecar keeps its own catalogue of full default base URLs.
/// </summary>
internal static class AiProviderEndpoints
{
    private static readonly Dictionary<string, string> DefaultHosts = new(StringComparer.Ordinal)
    {
        ["openai"] = "api.openai.com",
        ["anthropic"] = "api.anthropic.com",
        ["google"] = "generativelanguage.googleapis.com",
        ["openrouter"] = "openrouter.ai",
        ["groq"] = "api.groq.com",
    };

    /// <summary>The host and port the key goes to; null when the stored base URL no longer parses (edited in the database).</summary>
    public static (string Host, int Port)? Destination(string provider, string? baseUrl)
    {
        if (baseUrl is null)
        {
            return DefaultHosts.TryGetValue(provider, out var host) ? (host, 443) : null;
        }
        return Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) ? (uri.IdnHost, uri.Port) : null;
    }
}
