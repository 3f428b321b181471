namespace Xares.Sidecar.Tools;

/// <summary>How a provider's API takes its key.</summary>
internal enum KeyStyle
{
    /// <summary><c>Authorization: Bearer KEY</c> (OpenAI and the OpenAI-compatible APIs).</summary>
    Bearer,
    /// <summary><c>x-api-key: KEY</c> (Anthropic; its SDKs also accept a bearer token).</summary>
    XApiKey,
    /// <summary><c>x-goog-api-key: KEY</c> (Google; clients may also send <c>?key=</c>, which the proxy never forwards).</summary>
    GoogApiKey,
}

/// <summary>
/// One AI provider the broker stores keys for. <see cref="DefaultBaseUrl"/> is what its SDKs use as
/// their base URL; a credential's baseUrl replaces it whole. In proxy mode the tool's base URL is the
/// loopback proxy plus the path of the default base URL (e.g. <c>/v1</c>), so request paths keep their
/// shape and the proxy swaps that prefix for the credential's base URL.
/// </summary>
internal sealed record AiProvider(
    string Id,
    string DefaultBaseUrl,
    KeyStyle KeyStyle,
    IReadOnlyList<string> KeyVariables,
    IReadOnlyList<string> BaseUrlVariables)
{
    /// <summary>The path of <see cref="DefaultBaseUrl"/> without a trailing slash ("" for none).</summary>
    public string LocalPrefix => new Uri(DefaultBaseUrl).AbsolutePath.TrimEnd('/');

    /// <summary>True when <paramref name="baseUrl"/> is empty or the provider's public API.</summary>
    public bool IsDefault(string baseUrl) =>
        baseUrl.Length == 0 || string.Equals(baseUrl.TrimEnd('/'), DefaultBaseUrl.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
