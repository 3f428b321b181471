using Xares.Broker.Api;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>
/// Marks a flag as reviewed, audited in the same transaction: one path for
/// POST /api/v1/audit/flags/{id}/ack and the web UI's admin flags page.
/// </summary>
internal static class AuditFlagAcknowledgement
{
    /// <summary>The flag as acknowledged; a flag the caller may not see is not found; acknowledging twice keeps the first.</summary>
    public static Task<AuditFlag> AcknowledgeAsync(WriteQueue writes, AuditChain audit, TimeProvider time, Caller caller, string id, string? remote) =>
        writes.ExecuteAsync((c, t) =>
        {
            var found = AuditFlagStore.Find(c, t, id);
            if (found is null || (caller.BoundUserId is not null && !string.Equals(found.UserId, caller.BoundUserId, StringComparison.Ordinal)))
            {
                throw new NotFoundException("Flag");
            }
            if (found.AcknowledgedAt is not null)
            {
                return found;
            }
            var now = time.GetUtcNow();
            AuditFlagStore.Acknowledge(c, t, id, now, caller.Actor);
            audit.Append(c, t, new AuditEntry(AuditActions.AuditFlagAck, AuditOutcomes.Success)
            {
                Actor = caller.Actor, RemoteAddress = remote, UserId = found.UserId, WorkspaceId = found.WorkspaceId, CredentialId = found.CredentialId,
                Detail = $"flag {found.Id} ({found.Kind}) acknowledged",
            });
            return found with { AcknowledgedAt = DateTimeOffset.FromUnixTimeMilliseconds(now.ToDb()), AcknowledgedBy = caller.Actor };
        });
}
