using System.Data.Common;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;

namespace Xares.Broker.Leases;

/// <summary>
/// Pre-charged request allowance for proxy-mode AI leases: a request counts when the broker grants
/// it, not when a sidecar reports it, so under-reporting escapes nothing. A proxy-mode lease is
/// issued with a first block (<see cref="FirstBlock"/>, or what the monthly limit leaves); the proxy
/// asks for the next block (DrawAiRequests) before its allowance runs out. Each grant is charged to
/// the credential and recorded against the lease, in the same write unit as its audit record.
/// </summary>
internal sealed class AiRequestGranter(WriteQueue writes, AuditChain audit, LeaseRevocation leases, TimeProvider time)
{
    /// <summary>Requests granted with a new proxy-mode lease.</summary>
    public const long FirstBlock = 32;

    /// <summary>Most requests one draw may ask for; a busy proxy asks for more per draw, up to this.</summary>
    public const long MaxBlock = 1024;

    /// <summary>
    /// Charges up to <paramref name="wanted"/> requests to the lease's credential (fewer when the
    /// monthly limit leaves fewer) and records them against the lease; writes the grant row when
    /// <paramref name="newLease"/>. Returns the number granted and the quota after it. When a grant
    /// reaches the limit, inject-mode leases of the credential are revoked (their keys are outside
    /// the proxy); proxy-mode leases keep the allowance they were granted and get no more.
    /// </summary>
    public (long Granted, MonthlyQuota After) Grant(DbConnection c, DbTransaction t, CredentialRecord credential, LeaseRecord lease, CredentialUse use,
        long wanted, bool newLease, DateTimeOffset now)
    {
        var before = MonthlyQuota.Of(credential, now);
        var granted = before.MonthlyLimit is { } limit ? Math.Clamp(limit - before.UsesThisMonth, 0, wanted) : wanted;
        if (newLease)
        {
            AiRequestGrantStore.Insert(c, t, lease, granted, now);
        }
        if (granted == 0)
        {
            return (0, before);
        }
        if (!newLease)
        {
            AiRequestGrantStore.AddGranted(c, t, lease.Id, granted, now);
        }
        var after = CredentialUsageStore.Add(c, t, credential.Id, granted, 0, 0, now) ?? before;
        if (after is { IsReached: true, MonthlyLimit: { } reached } && after.UsesThisMonth - granted < reached)
        {
            foreach (var (leaseId, workspaceId) in AiRequestGrantStore.LiveLeasesWithoutGrants(c, t, credential.Id, now))
            {
                leases.RevokeLease(c, t, leaseId, workspaceId, now);
            }
            audit.Append(c, t, new AuditEntry(UsageAuditActions.LimitReached, AuditOutcomes.Success)
            {
                Actor = "broker", UserId = use.UserId, WorkspaceId = use.WorkspaceId, CredentialId = use.CredentialId, LeaseId = use.LeaseId,
                RemoteAddress = use.RemoteAddress,
                Detail = $"{after.UsesThisMonth} uses this month reached the monthly limit of {reached} (requests granted to proxy leases); " +
                    "inject-mode leases revoked, proxy leases keep what they were granted",
            });
        }
        return (granted, after);
    }

    /// <summary>DrawAiRequests: the next block for a proxy-mode lease of the caller's workspace.</summary>
    public Task<AiDrawOutcome> DrawAsync(SessionContext session, string leaseId, long wanted, string? remoteAddress)
    {
        if (string.IsNullOrEmpty(leaseId) || leaseId.Length > 128)
        {
            throw ValidationException.For("lease_id", "lease_id is required.");
        }
        if (wanted is < 1 or > MaxBlock)
        {
            throw ValidationException.For("requests", $"requests must be from 1 to {MaxBlock}.");
        }
        return writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            var (lease, grant) = ProxyLease(c, t, session, leaseId);
            var credential = CredentialStore.Find(c, t, lease.CredentialId);
            if (credential is null || lease.RevokedAt is not null || lease.ExpiresAt <= now || credential.SecretVersion != lease.SecretVersion
                || credential.ExpiresAt <= now)
            {
                return new AiDrawOutcome(0, lease.CredentialId, null, LeaseEnded: true);
            }
            var use = new CredentialUse(credential.Id, session.UserId, session.WorkspaceId, lease.Id, remoteAddress);
            AuditEntry Entry(string outcome, string detail) => new(UsageAuditActions.RequestGrant, outcome)
            {
                Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, CredentialId = credential.Id, LeaseId = lease.Id,
                RemoteAddress = remoteAddress, Detail = detail,
            };
            var (granted, after) = Grant(c, t, credential, lease, use, wanted, newLease: false, now);
            if (granted == 0)
            {
                audit.Append(c, t, Entry(AuditOutcomes.Denied,
                    $"{wanted} requests asked: monthly limit reached ({after.UsesThisMonth} of {after.MonthlyLimit} uses this month)"));
                return new AiDrawOutcome(0, credential.Id, after, LeaseEnded: false);
            }
            audit.Append(c, t, Entry(AuditOutcomes.Success,
                $"{granted} of {wanted} requests asked granted to the lease ({grant.Granted + granted} granted, {grant.Returned} returned in all); " +
                $"{after.UsesThisMonth} uses this month{(after.MonthlyLimit is { } limit ? $" of {limit}" : "")}"));
            return new AiDrawOutcome(granted, credential.Id, after, LeaseEnded: false);
        });
    }

    /// <summary>The caller's proxy-mode lease and its grants, or the error a sidecar gets for anything else.</summary>
    internal static (LeaseRecord Lease, AiRequestGrant Grant) ProxyLease(DbConnection c, DbTransaction t, SessionContext session, string leaseId)
    {
        var lease = LeaseStore.Find(c, t, leaseId);
        if (lease is null || lease.WorkspaceId != session.WorkspaceId)
        {
            // Another workspace's lease is answered like an unknown one: ids can't be probed.
            throw new NotFoundException("The lease");
        }
        var grant = AiRequestGrantStore.Find(c, t, leaseId)
            ?? throw ValidationException.For("lease_id", "Requests are granted and usage reported for proxy-mode AI leases only.");
        return (lease, grant);
    }
}

/// <summary>A draw's answer: how many were granted, and why not more (the quota after it, or the lease ended).</summary>
internal sealed record AiDrawOutcome(long Granted, string CredentialId, MonthlyQuota? Quota, bool LeaseEnded);
