using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Workspaces;

namespace Xares.Broker.Leases;

/// <summary>
/// One lease revoked on a caller's request (DELETE /api/v1/leases/{id}, or "Revoke lease" in the web
/// UI): the lease ends, its sidecar is told, and the revocation is audited, in one unit.
/// </summary>
internal sealed class LeaseRevoker(WriteQueue writes, AuditChain audit, LeaseRevocation revocation, TimeProvider time)
{
    /// <summary>Not found (also another user's lease) is thrown inside the unit, so it wins over a failed If-Match (no probing of ids).</summary>
    public Task RevokeAsync(Caller caller, string leaseId, string? remoteAddress) =>
        writes.ExecuteAsync((c, t) =>
        {
            var lease = LeaseStore.Find(c, t, leaseId);
            var workspace = lease is null ? null : WorkspaceStore.Find(c, t, lease.WorkspaceId);
            if (lease is null || workspace is null || !caller.CanSee(workspace.UserId))
            {
                throw new NotFoundException("The lease");
            }
            if (revocation.RevokeLease(c, t, leaseId, lease.WorkspaceId, time.GetUtcNow()))
            {
                audit.Append(c, t, new AuditEntry(AuditActions.LeaseRevoke, AuditOutcomes.Success)
                {
                    Actor = caller.Actor, UserId = workspace.UserId, WorkspaceId = workspace.Id, CredentialId = lease.CredentialId, LeaseId = lease.Id,
                    RemoteAddress = remoteAddress,
                });
            }
        });
}
