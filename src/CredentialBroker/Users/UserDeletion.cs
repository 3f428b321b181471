using System.Data.Common;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Leases;
using Xares.Broker.Revocations;
using Xares.Broker.Storage;

namespace Xares.Broker.Users;

/// <summary>
/// Offboarding in one write unit: the user's credentials are deleted (crypto-shred: the rows and
/// their sealed data keys are gone), its workspaces and their leases are revoked and announced to
/// the sidecars, then the user row goes (the schema cascades to keys, workspaces and sessions).
/// Revocation here does not reach the providers: the secrets still need rotating there.
/// </summary>
internal sealed class UserDeletion(WriteQueue writes, LeaseRevocation leases, RevocationLog revocations, AuditChain audit, TimeProvider time)
{
    public Task DeleteAsync(Caller caller, string userId, string? remoteAddress) => writes.ExecuteAsync((c, t) =>
    {
        if (!caller.CanSee(userId) || !UserStore.Exists(c, t, userId))
        {
            throw new NotFoundException("User");
        }
        var now = time.GetUtcNow();
        AuditEntry Entry(string action) => new(action, AuditOutcomes.Success) { Actor = caller.Actor, RemoteAddress = remoteAddress, UserId = userId };

        var credentialIds = CredentialStore.ListIds(c, t, userId);
        foreach (var credentialId in credentialIds)
        {
            leases.RevokeForCredential(c, t, credentialId, userId, now);
            CredentialStore.Delete(c, t, credentialId);
            audit.Append(c, t, Entry(AuditActions.CredentialDelete) with { CredentialId = credentialId, Detail = "user deleted" });
        }

        var workspaceIds = ActiveWorkspaces(c, t, userId);
        foreach (var workspaceId in workspaceIds)
        {
            Sql.Execute(c, t, "UPDATE workspaces SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL", ("@id", workspaceId), ("@now", now.ToDb()));
            leases.RevokeForWorkspace(c, t, workspaceId, now);
            revocations.Append(c, t, RevocationKinds.Workspace, workspaceId, workspaceId: workspaceId);
            audit.Append(c, t, Entry(AuditActions.WorkspaceRevoke) with { WorkspaceId = workspaceId, Detail = "user deleted" });
        }

        UserStore.Delete(c, t, userId);
        audit.Append(c, t, Entry(AuditActions.UserDelete) with
        {
            Detail = $"deleted {credentialIds.Count} credential(s), revoked {workspaceIds.Count} workspace(s)",
        });
    });

    private static List<string> ActiveWorkspaces(DbConnection connection, DbTransaction transaction, string userId) =>
        Sql.Query(connection, transaction, "SELECT id FROM workspaces WHERE user_id = @user AND revoked_at IS NULL ORDER BY id",
            r => r.GetString(0), ("@user", userId));
}
