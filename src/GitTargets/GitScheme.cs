using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Xares.GitTargets;

/// <summary>The two schemes git credentials travel over, their default ports and origin form.</summary>
public static class GitScheme
{
    public const string Https = "https";
    public const string Http = "http";

    public static bool TryNormalize(string scheme, [NotNullWhen(true)] out string? normalized)
    {
        // ASCII-only folding: no other letter may turn into "https".
        normalized = Ascii.EqualsIgnoreCase(scheme, Https) ? Https
            : Ascii.EqualsIgnoreCase(scheme, Http) ? Http
            : null;
        return normalized is not null;
    }

    public static int DefaultPort(string scheme) => scheme == Https ? 443 : 80;

    public static string Origin(string scheme, string host, int port) =>
        port == DefaultPort(scheme) ? $"{scheme}://{host}" : $"{scheme}://{host}:{port}";
}
