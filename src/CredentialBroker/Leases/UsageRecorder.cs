using System.Data.Common;
using Xares.Broker.Audit;
using Xares.Broker.Credentials;

namespace Xares.Broker.Leases;

/// <summary>
/// Counts uses of a credential inside the caller's write unit. When a count crosses the monthly
/// limit, the credential's leases are revoked (sidecars are told through the revocation log) and
/// the crossing is audited once; later leases are refused until the month turns or the limit rises.
/// </summary>
internal sealed class UsageRecorder(AuditChain audit, LeaseRevocation leases)
{
    /// <summary>Adds uses and tokens; null when the credential is gone.</summary>
    public MonthlyQuota? Record(DbConnection c, DbTransaction t, CredentialUse use, long uses, long inputTokens, long outputTokens, DateTimeOffset now)
    {
        var after = CredentialUsageStore.Add(c, t, use.CredentialId, uses, inputTokens, outputTokens, now);
        if (after is { IsReached: true, MonthlyLimit: { } limit } && after.UsesThisMonth - uses < limit)
        {
            leases.RevokeForCredential(c, t, use.CredentialId, use.UserId, now);
            audit.Append(c, t, new AuditEntry(UsageAuditActions.LimitReached, AuditOutcomes.Success)
            {
                Actor = "broker", UserId = use.UserId, WorkspaceId = use.WorkspaceId, CredentialId = use.CredentialId, LeaseId = use.LeaseId,
                RemoteAddress = use.RemoteAddress,
                Detail = $"{after.UsesThisMonth} uses this month reached the monthly limit of {limit}; leases revoked",
            });
        }
        return after;
    }

    /// <summary>
    /// Counts one lease of a credential whose quota was read in this write unit: without a monthly
    /// limit nothing can be crossed, so the counters are updated without waiting for them.
    /// </summary>
    public void RecordLease(DbConnection c, DbTransaction t, CredentialUse use, MonthlyQuota before, DateTimeOffset now)
    {
        if (before.MonthlyLimit is null)
        {
            CredentialUsageStore.AddUnlimited(c, t, use.CredentialId, 1, now);
            return;
        }
        Record(c, t, use, 1, 0, 0, now);
    }

    /// <summary>Audits a refusal because the limit is reached (a lease.issue denial).</summary>
    public void AuditRefusal(DbConnection c, DbTransaction t, CredentialUse use, MonthlyQuota quota, string what) =>
        audit.Append(c, t, new AuditEntry(AuditActions.LeaseIssue, AuditOutcomes.Denied)
        {
            Actor = "sidecar", UserId = use.UserId, WorkspaceId = use.WorkspaceId, CredentialId = use.CredentialId, RemoteAddress = use.RemoteAddress,
            Detail = $"{what}: monthly limit reached ({quota.UsesThisMonth} of {quota.MonthlyLimit} uses this month)",
        });
}

/// <summary>Who used which credential, for the audit records usage accounting writes.</summary>
internal sealed record CredentialUse(string CredentialId, string UserId, string? WorkspaceId, string? LeaseId, string? RemoteAddress);
