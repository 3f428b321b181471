using System.Diagnostics.CodeAnalysis;
using Xares.GitTargets;

namespace Xares.Broker.Credentials.Matching;

/// <summary>
/// A git credential's destination, parsed once when stored (design §4 rule b). Its
/// <see cref="CanonicalUrl"/> is stable across versions: it is bound into the secret's
/// associated data, so any change to canonicalization is a data migration.
/// </summary>
internal sealed class GitDestination
{
    private const int MaxUrlLength = 2048;

    private GitDestination(string scheme, string host, int port, IReadOnlyList<string> pathSegments)
    {
        Scheme = scheme;
        Host = host;
        Port = port;
        PathSegments = pathSegments;
        OriginUrl = GitScheme.Origin(scheme, host, port);
        CanonicalUrl = pathSegments.Count == 0
            ? OriginUrl
            : OriginUrl + "/" + string.Join('/', pathSegments.Select(PercentEncoding.EncodeSegment));
    }

    public string Scheme { get; }

    /// <summary>Lowercase ASCII; IDN labels in punycode; IPv6 literals in brackets.</summary>
    public string Host { get; }

    public int Port { get; }

    /// <summary>Percent-decoded, as git sends them; compared case-sensitively.</summary>
    public IReadOnlyList<string> PathSegments { get; }

    public bool HasPath => PathSegments.Count > 0;

    /// <summary><c>scheme://host[:port]</c>, the port only when not the scheme's default.</summary>
    public string OriginUrl { get; }

    /// <summary><see cref="OriginUrl"/> plus the re-encoded path, without a trailing slash.</summary>
    public string CanonicalUrl { get; }

    public override string ToString() => CanonicalUrl;

    // Errors never quote the input: a pasted URL may carry a token in its userinfo.
    public static bool TryParse(string url, [NotNullWhen(true)] out GitDestination? destination, [NotNullWhen(false)] out string? error)
    {
        destination = null;
        error = Precheck(url);
        if (error is not null)
        {
            return false;
        }

        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0 || !GitScheme.TryNormalize(url[..schemeEnd], out var scheme))
        {
            error = "The URL must start with https:// or http://.";
            return false;
        }

        var rest = url[(schemeEnd + 3)..];
        var slash = rest.IndexOf('/');
        var authority = slash < 0 ? rest : rest[..slash];
        error = rest switch
        {
            _ when rest.Contains('#') => "The URL must not contain a fragment ('#').",
            _ when rest.Contains('?') => "The URL must not contain a query ('?').",
            _ when authority.Contains('@') => "The URL must not contain a username or password ('user@host'); give the username in its own field.",
            _ when authority.Length == 0 => "The URL has no host.",
            _ => null,
        };
        if (error is not null
            || !HostPort.TryParse(authority, out var host, out var port, out error)
            || !GitPath.TryParseUrlPath(slash < 0 ? "" : rest[slash..], out var segments, out error))
        {
            return false;
        }

        destination = new GitDestination(scheme, host, port ?? GitScheme.DefaultPort(scheme), segments);
        return true;
    }

    private static string? Precheck(string url) => url switch
    {
        _ when string.IsNullOrWhiteSpace(url) => "The URL is empty.",
        { Length: > MaxUrlLength } => "The URL is longer than 2048 characters.",
        _ when url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) =>
            "The URL must not contain spaces or control characters (write a space in the path as %20).",
        _ when url.Contains('\\') => "The URL must not contain backslashes.",
        _ => null,
    };
}
