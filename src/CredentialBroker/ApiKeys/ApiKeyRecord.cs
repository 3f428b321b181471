namespace Xares.Broker.ApiKeys;

internal sealed record ApiKeyRecord(
    string Id,
    string Name,
    string Prefix,
    IReadOnlyList<string> Scopes,
    string? UserId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? LastUsedAt);
