namespace Xares.Sidecar.Ai.Proxy;

/// <summary>Builds the upstream URL from the credential's base URL only; the tool supplies just path and query.</summary>
internal static class UpstreamUrl
{
    /// <summary>
    /// <paramref name="localPrefix"/> (e.g. <c>/v1</c>) is swapped for the base URL's path; a path
    /// outside it is refused (null). Any <c>key=</c> query parameter is dropped.
    /// </summary>
    public static Uri? Build(string baseUrl, string localPrefix, string rawPath, string rawQuery)
    {
        string rest;
        if (localPrefix.Length == 0)
        {
            rest = rawPath;
        }
        else if (rawPath == localPrefix || rawPath.StartsWith(localPrefix + "/", StringComparison.Ordinal))
        {
            rest = rawPath[localPrefix.Length..];
        }
        else
        {
            return null;
        }
        var parameters = rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !string.Equals(Uri.UnescapeDataString(p.Split('=')[0]), "key", StringComparison.OrdinalIgnoreCase));
        var query = string.Join('&', parameters);
        var root = new Uri(baseUrl);
        var builder = root.GetLeftPart(UriPartial.Authority) + root.AbsolutePath.TrimEnd('/') + rest;
        return new Uri(query.Length == 0 ? builder : builder + "?" + query);
    }
}
