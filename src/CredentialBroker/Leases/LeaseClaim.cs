using System.Data.Common;
using Xares.Broker.Credentials;
using Xares.Broker.Security;
using Xares.Broker.Storage;

namespace Xares.Broker.Leases;

/// <summary>
/// The in-transaction half of a git lease decided from reads made before the write unit
/// (PostgreSQL): the lease row is written by one conditional statement that re-checks everything
/// the decision rested on, so a lease is issued only for a credential version that is current in
/// the same transaction as its audit record (rule e). Inside a write batch it is held back
/// with the batch's other writes; if its condition turned false meanwhile, the batch runs again
/// and the unit decides from scratch.
/// </summary>
internal static class LeaseClaim
{
    /// <summary>
    /// Writes the lease if its credential is unchanged since it was read (same secret version,
    /// destination, username, provider and expiry: neither deleted nor edited), not expired, has no
    /// monthly limit (a limit needs the count read under the lock), and the session token is still
    /// valid (not superseded, expired or revoked, nor its session or workspace). False, or
    /// <paramref name="onStale"/> later, when anything of that changed.
    /// </summary>
    public static bool InsertLeaseIfCurrent(DbConnection connection, DbTransaction transaction, string sessionToken, GitCredentialRow credential,
        LeaseRecord lease, Action onStale) =>
        Sql.WriteIfCurrent(connection, transaction,
            $"""
            INSERT INTO leases ({LeaseStore.Columns}) SELECT {LeaseStore.NewRowValues}
            WHERE EXISTS (
                SELECT 1 FROM credentials
                WHERE id = @cred AND user_id = @user AND secret_version = @version AND url = @url AND username = @username AND provider = @provider
                  AND expires_at IS NOT DISTINCT FROM @credential_expires AND (expires_at IS NULL OR expires_at > @issued) AND monthly_limit IS NULL)
              AND EXISTS (
                SELECT 1 FROM session_tokens t JOIN sessions s ON s.id = t.session_id JOIN workspaces w ON w.id = s.workspace_id
                WHERE t.token_hash = @hash AND t.superseded_at IS NULL AND t.expires_at > @issued AND s.id = @session
                  AND s.revoked_at IS NULL AND s.expires_at > @issued AND w.revoked_at IS NULL AND w.id = @ws AND w.user_id = @user)
            """,
            onStale,
            [
                .. LeaseStore.NewRowParameters(lease),
                ("@user", credential.UserId), ("@url", credential.Destination.CanonicalUrl), ("@username", credential.Username),
                ("@provider", credential.Provider), ("@credential_expires", credential.ExpiresAt.ToDb()), ("@hash", OpaqueToken.Hash(sessionToken)),
            ]);
}
