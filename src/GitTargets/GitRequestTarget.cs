using System.Diagnostics.CodeAnalysis;

namespace Xares.GitTargets;

/// <summary>
/// What git asked a credential for, canonicalized exactly like the broker's stored destinations so
/// the two compare ordinally. Anything odd makes no target at all, which matches nothing. The
/// broker matches on it and the sidecar keys its lease cache on <see cref="CanonicalKey"/>, so a
/// cached lease answers exactly the requests the broker would answer the same way.
/// </summary>
public sealed class GitRequestTarget
{
    private GitRequestTarget(string scheme, string host, int port, IReadOnlyList<string> pathSegments)
    {
        Scheme = scheme;
        Host = host;
        Port = port;
        PathSegments = pathSegments;
        CanonicalKey = GitScheme.Origin(scheme, host, port) + (pathSegments.Count > 0 ? "/" + string.Join('/', pathSegments) : "");
    }

    /// <summary>https or http, lowercase.</summary>
    public string Scheme { get; }

    /// <summary>Lowercase ASCII; IDN labels in punycode; IPv6 literals in brackets.</summary>
    public string Host { get; }

    /// <summary>Explicit or the scheme's default.</summary>
    public int Port { get; }

    /// <summary>As git sent them (git percent-decodes the path); empty when git sent no path.</summary>
    public IReadOnlyList<string> PathSegments { get; }

    /// <summary>False when git sent no path: then only credentials without a path match.</summary>
    public bool HasPath => PathSegments.Count > 0;

    /// <summary>
    /// <c>scheme://host[:port][/segment/…]</c>: the port only when not the scheme's default, the
    /// segments as received. Equal keys are the same request (segments never contain '/').
    /// </summary>
    public string CanonicalKey { get; }

    /// <summary>For audit records and logs; path segments are shown as received.</summary>
    public override string ToString() => CanonicalKey;

    /// <param name="protocol">git's <c>protocol=</c>: http or https.</param>
    /// <param name="host">git's <c>host=</c>: <c>host</c>, <c>host:port</c> or <c>[v6]:port</c>.</param>
    /// <param name="path">git's <c>path=</c>, without a leading slash; null or empty when absent.</param>
    public static bool TryCreate(string protocol, string host, string? path, [NotNullWhen(true)] out GitRequestTarget? target)
    {
        target = null;
        if (!ProtocolText.IsSafe(protocol)
            || !ProtocolText.IsSafe(host)
            || (path is not null && !ProtocolText.IsSafe(path))
            || !GitScheme.TryNormalize(protocol, out var scheme)
            || !HostPort.TryParse(host, out var canonicalHost, out var port, out _)
            || !GitPath.TryParseRequestPath(path, out var segments))
        {
            return false;
        }

        target = new GitRequestTarget(scheme, canonicalHost, port ?? GitScheme.DefaultPort(scheme), segments);
        return true;
    }
}
