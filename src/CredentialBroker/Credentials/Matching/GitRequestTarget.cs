using System.Diagnostics.CodeAnalysis;

namespace Xares.Broker.Credentials.Matching;

/// <summary>
/// What git asked a credential for, canonicalized exactly like <see cref="GitDestination"/> so
/// the two compare ordinally. Anything odd makes no target at all, which matches nothing.
/// </summary>
internal sealed class GitRequestTarget
{
    private GitRequestTarget(string scheme, string host, int port, IReadOnlyList<string> pathSegments)
    {
        Scheme = scheme;
        Host = host;
        Port = port;
        PathSegments = pathSegments;
    }

    public string Scheme { get; }

    public string Host { get; }

    public int Port { get; }

    /// <summary>As git sent them (git percent-decodes the path); empty when git sent no path.</summary>
    public IReadOnlyList<string> PathSegments { get; }

    public bool HasPath => PathSegments.Count > 0;

    /// <summary>For audit records and logs; path segments are shown as received.</summary>
    public override string ToString() =>
        GitScheme.Origin(Scheme, Host, Port) + (HasPath ? "/" + string.Join('/', PathSegments) : "");

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
