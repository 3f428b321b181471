namespace Xares.Broker.Leases;

internal sealed record LeaseRecord(
    string Id,
    string WorkspaceId,
    string SessionId,
    string CredentialId,
    long SecretVersion,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? RejectedAt);
