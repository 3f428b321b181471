namespace Xares.Broker.CredentialHealth;

/// <summary>POST /api/v1/credentials/{id}/test: what the provider said about the secret. Never holds the secret.</summary>
internal sealed record CredentialTestResult(string Status, DateTimeOffset CheckedAt, string? Reason, ProviderIdentity? Identity)
{
    public const string Ok = "ok";
    public const string Failed = "failed";
}

/// <summary>Who the provider says the secret belongs to, where it says so: login, scopes, rate limit, the token's own expiry.</summary>
internal sealed record ProviderIdentity(
    string? Login = null,
    string? Name = null,
    IReadOnlyList<string>? Scopes = null,
    RateLimitInfo? RateLimit = null,
    DateTimeOffset? ExpiresAt = null);

internal sealed record RateLimitInfo(long? Limit, long? Remaining, DateTimeOffset? ResetAt);

/// <summary>One probe's verdict: ok with an identity, or failed with a reason.</summary>
internal sealed record ProbeOutcome(bool Ok, string? Reason, ProviderIdentity? Identity)
{
    public static ProbeOutcome Success(ProviderIdentity? identity) => new(true, null, identity);

    public static ProbeOutcome Failure(string reason) => new(false, reason, null);
}
