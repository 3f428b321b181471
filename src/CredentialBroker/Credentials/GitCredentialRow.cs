using Xares.Broker.Credentials.Matching;
using Xares.Broker.Vault;

namespace Xares.Broker.Credentials;

/// <summary>
/// A git credential as the lease issuer sees it. <see cref="Destination"/> is re-parsed from the
/// stored canonical URL, the same string the ciphertext is bound to, so matching never trusts
/// the scheme/host/port/path columns alone: a destination edited in the database either stops
/// matching or fails to open (<see cref="SecretIntegrityException"/>).
/// </summary>
internal sealed record GitCredentialRow(
    string Id,
    string UserId,
    string Provider,
    GitDestination Destination,
    string Username,
    long SecretVersion,
    DateTimeOffset? ExpiresAt,
    SealedSecret Sealed,
    CredentialUsage Usage,
    long? MonthlyLimit)
{
    /// <summary>Uses this month against the limit, as read with the row (the lease path needs no second read).</summary>
    public MonthlyQuota QuotaAt(DateTimeOffset now) => new(Usage.UsesIn(MonthlyQuota.MonthOf(now)), MonthlyLimit);

    /// <summary>The associated data to open <see cref="Sealed"/> with.</summary>
    public SecretContext Context =>
        CredentialRecord.ContextFor(Id, UserId, SecretVersion, CredentialKinds.Git, Provider, Destination.CanonicalUrl, Username);
}

/// <summary>A distinct origin (scheme://host[:port]) the user has git credentials for, and whether any of them names a path.</summary>
internal sealed record GitOrigin(string OriginUrl, bool HasPath);
