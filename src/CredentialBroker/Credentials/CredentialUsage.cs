using System.Globalization;

namespace Xares.Broker.Credentials;

/// <summary>
/// A credential's usage counters as stored. <see cref="UsesThisMonth"/> belongs to
/// <see cref="UsageMonth"/>; read it through <see cref="UsesIn"/> so a past month counts as 0
/// (the monthly reset is applied lazily, never by a job).
/// </summary>
internal sealed record CredentialUsage(long TotalUses, long UsesThisMonth, string? UsageMonth, DateTimeOffset? LastUsedAt, long InputTokens, long OutputTokens)
{
    public static CredentialUsage None { get; } = new(0, 0, null, null, 0, 0);

    public long UsesIn(string month) => UsageMonth == month ? UsesThisMonth : 0;
}

/// <summary>Uses this month against an optional monthly limit.</summary>
internal sealed record MonthlyQuota(long UsesThisMonth, long? MonthlyLimit)
{
    /// <summary>The largest monthlyLimit accepted; far beyond any real month, small enough never to overflow.</summary>
    public const long MaxLimit = 1_000_000_000;

    public bool IsReached => MonthlyLimit is { } limit && UsesThisMonth >= limit;

    /// <summary>The month usage is counted in: "yyyy-MM" in UTC.</summary>
    public static string MonthOf(DateTimeOffset now) => now.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public static MonthlyQuota Of(CredentialRecord record, DateTimeOffset now) =>
        new(record.Usage.UsesIn(MonthOf(now)), record.MonthlyLimit);
}

/// <summary>Audit actions of usage accounting (kept next to it; queried through the REST API like the others).</summary>
internal static class UsageAuditActions
{
    /// <summary>A credential reached its monthly limit: its leases were revoked. Recorded once per crossing.</summary>
    public const string LimitReached = "credential.limit_reached";

    /// <summary>The sidecar's proxy reported requests and tokens for a lease, or gave back unused allowance.</summary>
    public const string UsageReport = "credential.usage";

    /// <summary>A block of proxied requests granted to a proxy-mode lease and charged to the credential (or refused).</summary>
    public const string RequestGrant = "credential.grant";
}
