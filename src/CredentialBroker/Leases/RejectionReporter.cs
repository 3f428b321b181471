using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;

namespace Xares.Broker.Leases;

/// <summary>
/// Git got a 401 with a lease's secret (git `erase`). Rule g: a hint, not a weapon — it counts
/// once per lease, only against the credential's current secret version, and only flags the
/// credential (for a re-test); it never disables or deletes it.
/// </summary>
internal sealed class RejectionReporter(WriteQueue writes, AuditChain audit, TimeProvider time)
{
    public Task<bool> ReportAsync(SessionContext session, string leaseId, string? remoteAddress) =>
        writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            var lease = LeaseStore.Find(c, t, leaseId);
            if (lease is null || lease.WorkspaceId != session.WorkspaceId)
            {
                return false;
            }
            var counted = LeaseStore.MarkRejected(c, t, lease.Id, now) && CredentialStore.RecordRejection(c, t, lease.CredentialId, lease.SecretVersion, now);
            audit.Append(c, t, new AuditEntry(AuditActions.CredentialRejected, counted ? AuditOutcomes.Success : AuditOutcomes.Denied)
            {
                Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, CredentialId = lease.CredentialId, LeaseId = lease.Id,
                RemoteAddress = remoteAddress,
                Detail = counted ? "git reported the secret was refused; credential flagged" : "repeated or stale rejection; not counted",
            });
            return counted;
        });
}
