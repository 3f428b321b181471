using System.Data.Common;
using Xares.Broker.Credentials;
using Xares.Broker.Credentials.Matching;
using Xares.Broker.Minted;
using Xares.Broker.Revocations;
using Xares.Broker.Storage;

namespace Xares.Broker.Leases;

/// <summary>Ends leases in the database and announces it to sidecars, inside the caller's transaction.</summary>
internal sealed class LeaseRevocation(RevocationLog revocations, MintedTokenRevocation minted)
{
    /// <summary>A credential was deleted or got a new secret: its leases end and its owner's sidecars drop it.</summary>
    public void RevokeForCredential(DbConnection connection, DbTransaction transaction, string credentialId, string ownerUserId, DateTimeOffset now)
    {
        Sql.Execute(connection, transaction, "UPDATE leases SET revoked_at = @now WHERE credential_id = @id AND revoked_at IS NULL",
            ("@id", credentialId), ("@now", now.ToDb()));
        revocations.Append(connection, transaction, RevocationKinds.Credential, credentialId, userId: ownerUserId);
    }

    /// <summary>The credential's expiry moved earlier: its live leases that would outlive the new end are revoked one by one.</summary>
    public void RevokeOutliving(DbConnection connection, DbTransaction transaction, string credentialId, DateTimeOffset end, DateTimeOffset now)
    {
        var outliving = Sql.Query(connection, transaction,
            "SELECT id, workspace_id FROM leases WHERE credential_id = @id AND revoked_at IS NULL AND expires_at > @end",
            r => (Id: r.GetString(0), WorkspaceId: r.GetString(1)), ("@id", credentialId), ("@end", end.ToDb()));
        foreach (var lease in outliving)
        {
            RevokeLease(connection, transaction, lease.Id, lease.WorkspaceId, now);
        }
    }

    public bool RevokeLease(DbConnection connection, DbTransaction transaction, string leaseId, string workspaceId, DateTimeOffset now)
    {
        var changed = Sql.Execute(connection, transaction, "UPDATE leases SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL",
            ("@id", leaseId), ("@now", now.ToDb())) == 1;
        if (changed)
        {
            revocations.Append(connection, transaction, RevocationKinds.Lease, leaseId, workspaceId: workspaceId);
            // A minted token ends with any of its leases: it is revoked here and queued for revocation upstream.
            minted.RevokeForLease(connection, transaction, leaseId, now);
        }
        return changed;
    }

    /// <summary>
    /// A workspace's policy narrowed: its live leases whose secret goes to a host the new allow-list
    /// excludes (a git credential's host, an AI provider's API host) are revoked one by one, so the
    /// sidecar drops exactly those. Returns the revoked lease ids.
    /// </summary>
    public List<string> RevokeDisallowed(DbConnection connection, DbTransaction transaction, string workspaceId, HostAllowList allowList, DateTimeOffset now)
    {
        var revoked = new List<string>();
        if (allowList.IsUnrestricted)
        {
            return revoked;
        }
        foreach (var lease in LeaseStore.LiveWithDestination(connection, transaction, workspaceId, now))
        {
            // A destination that no longer parses (edited in the database) is not allowed anywhere.
            var destination = lease.Kind == CredentialKinds.Git
                ? lease.Url is not null && GitDestination.TryParse(lease.Url, out var git, out _) ? (git.Host, git.Port) : ((string, int)?)null
                : AiProviderEndpoints.Destination(lease.Provider, lease.Url);
            if ((destination is not { } hostPort || !allowList.Allows(hostPort.Item1, hostPort.Item2))
                && RevokeLease(connection, transaction, lease.LeaseId, workspaceId, now))
            {
                revoked.Add(lease.LeaseId);
            }
        }
        return revoked;
    }

    /// <summary>Every lease of a workspace ends (workspace revoked or its session ended), and so do its minted tokens.</summary>
    public void RevokeForWorkspace(DbConnection connection, DbTransaction transaction, string workspaceId, DateTimeOffset now)
    {
        Sql.Execute(connection, transaction, "UPDATE leases SET revoked_at = @now WHERE workspace_id = @ws AND revoked_at IS NULL",
            ("@ws", workspaceId), ("@now", now.ToDb()));
        minted.RevokeForWorkspace(connection, transaction, workspaceId, now);
    }
}
