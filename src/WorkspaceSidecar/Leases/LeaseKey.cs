namespace Xares.Sidecar.Leases;

/// <summary>What a git (or AI key) request asks for; equal keys may share a cached lease.</summary>
internal readonly record struct LeaseKey(string Protocol, string Host, string Path, string Username)
{
    public static LeaseKey Create(string protocol, string host, string path, string username)
    {
        var scheme = protocol.Trim().ToLowerInvariant();
        var authority = host.Trim().ToLowerInvariant();
        // Fold the default port so "github.com" and "github.com:443" share a lease.
        if ((scheme == "https" && authority.EndsWith(":443", StringComparison.Ordinal)) ||
            (scheme == "http" && authority.EndsWith(":80", StringComparison.Ordinal)))
        {
            authority = authority[..authority.LastIndexOf(':')];
        }
        return new LeaseKey(scheme, authority, path.Trim('/'), username);
    }

    /// <summary>An AI key: provider, the credential asked for (empty: the owner's default) and the mode it is audited under.</summary>
    public static LeaseKey ForAi(string provider, string credentialId, string mode) =>
        new("ai", provider.Trim().ToLowerInvariant(), credentialId, mode);
}
