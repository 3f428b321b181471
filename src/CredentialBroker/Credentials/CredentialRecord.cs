using Xares.Broker.Vault;

namespace Xares.Broker.Credentials;

/// <summary>
/// A credential row. <see cref="Url"/> is the canonical destination: the git URL, or the AI
/// base URL (null for the provider's default); scheme/host/port/path are parsed from it for matching.
/// </summary>
internal sealed record CredentialRecord(
    string Id,
    string UserId,
    string Kind,
    string Provider,
    string? Name,
    string? Url,
    GitEndpoint? Git,
    string? Username,
    long SecretVersion,
    SealedSecret Sealed,
    string SecretHint,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long RejectionCount,
    DateTimeOffset? FlaggedAt)
{
    /// <summary>Counted by the broker (leases) and the sidecar's proxy (requests, tokens); never written by REST.</summary>
    public CredentialUsage Usage { get; init; } = CredentialUsage.None;

    /// <summary>AI credentials: <see cref="CredentialDelivery.Proxy"/> (no inject leases) or <see cref="CredentialDelivery.Any"/>.</summary>
    public string Delivery { get; init; } = CredentialDelivery.Any;

    /// <summary>Uses per calendar month (UTC) after which leases are refused; null = no limit.</summary>
    public long? MonthlyLimit { get; init; }

    /// <summary>What the ciphertext is bound to (rule a): id, owner, version, kind, provider, destination, username.</summary>
    public SecretContext Context => ContextFor(Id, UserId, SecretVersion, Kind, Provider, Url, Username);

    public static SecretContext ContextFor(string id, string userId, long secretVersion, string kind, string provider, string? url, string? username) =>
        new(id, userId, secretVersion, kind, provider, url ?? "", username ?? "");
}

/// <summary>The matching columns of a git credential, parsed once from its canonical URL (rule b).</summary>
internal sealed record GitEndpoint(string Scheme, string Host, int Port, string Path);
