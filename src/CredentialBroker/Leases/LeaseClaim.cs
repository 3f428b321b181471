using System.Data.Common;
using Xares.Broker.Credentials;
using Xares.Broker.Security;
using Xares.Broker.Storage;

namespace Xares.Broker.Leases;

/// <summary>
/// The in-transaction half of a git lease decided from reads made before the write unit: one
/// statement that counts the use only if everything the decision rested on still holds, so a
/// lease is issued only for a credential version that is current in the same transaction as its
/// audit record (design rule e).
/// </summary>
internal static class LeaseClaim
{
    /// <summary>
    /// Adds one use to the credential and returns the counts after it, if the credential is
    /// unchanged since it was read in what the lease rests on (same secret version, destination,
    /// username, provider and expiry: neither deleted nor edited), not expired,
    /// under its monthly limit, and the session token still valid (not superseded, expired or
    /// revoked, nor its session or workspace). Null when anything of that changed: the caller
    /// then decides again from scratch inside the transaction.
    /// </summary>
    public static MonthlyQuota? CountUseIfCurrent(DbConnection connection, DbTransaction transaction, string sessionToken, GitCredentialRow credential,
        DateTimeOffset now) =>
        Sql.Single(connection, transaction,
            """
            UPDATE credentials SET
                uses_this_month = CASE WHEN usage_month = @month THEN uses_this_month + 1 ELSE 1 END,
                usage_month = @month,
                total_uses = total_uses + 1,
                last_used_at = @now
            WHERE id = @id AND user_id = @user AND secret_version = @version AND url = @url AND username = @username AND provider = @provider
              AND expires_at IS NOT DISTINCT FROM @expires AND (expires_at IS NULL OR expires_at > @now)
              AND (monthly_limit IS NULL OR CASE WHEN usage_month = @month THEN uses_this_month ELSE 0 END < monthly_limit)
              AND EXISTS (
                SELECT 1 FROM session_tokens t JOIN sessions s ON s.id = t.session_id JOIN workspaces w ON w.id = s.workspace_id
                WHERE t.token_hash = @hash AND t.superseded_at IS NULL AND t.expires_at > @now
                  AND s.revoked_at IS NULL AND s.expires_at > @now AND w.revoked_at IS NULL AND w.user_id = @user)
            RETURNING uses_this_month, monthly_limit
            """,
            r => new MonthlyQuota(r.GetInt64(0), r.NullableInt64(1)),
            ("@id", credential.Id), ("@user", credential.UserId), ("@version", credential.SecretVersion), ("@url", credential.Destination.CanonicalUrl),
            ("@username", credential.Username), ("@provider", credential.Provider), ("@expires", credential.ExpiresAt.ToDb()),
            ("@month", MonthlyQuota.MonthOf(now)), ("@now", now.ToDb()), ("@hash", OpaqueToken.Hash(sessionToken)));
}
