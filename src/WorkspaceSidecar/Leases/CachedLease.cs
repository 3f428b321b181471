namespace Xares.Sidecar.Leases;

/// <summary>A lease held in memory only (git, or an AI key with its <see cref="BaseUrl"/>). ToString never shows the secret.</summary>
internal sealed record CachedLease(
    string LeaseId,
    string CredentialId,
    string Username,
    string Secret,
    DateTimeOffset ExpiresAt,
    long SecretVersion,
    DateTimeOffset ReceivedAt,
    string BaseUrl = "")
{
    private static readonly TimeSpan MinimumMargin = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A cached lease is handed out only until shortly before it expires, so git never
    /// starts a push with a secret that dies mid-operation.
    /// </summary>
    public DateTimeOffset ServeUntil
    {
        get
        {
            var lifetime = ExpiresAt - ReceivedAt;
            var margin = lifetime / 10 > MinimumMargin ? lifetime / 10 : MinimumMargin;
            return ExpiresAt - margin;
        }
    }

    public override string ToString() => $"lease {LeaseId} (credential {CredentialId}, expires {ExpiresAt:O})";
}
