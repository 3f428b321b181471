using System.Data.Common;
using Xares.Broker.Security;
using Xares.Broker.Storage;

namespace Xares.Broker.Workspaces;

/// <summary>
/// Single-use, expiring tokens (xbt_…) that a new sidecar exchanges for a session (rule d):
/// minting one invalidates the workspace's older unused ones, and redemption is one atomic
/// `UPDATE … WHERE used_at IS NULL`, so of any number of concurrent redemptions exactly one wins.
/// </summary>
internal static class BootstrapTokens
{
    public static (string Token, DateTimeOffset ExpiresAt) Mint(DbConnection connection, DbTransaction transaction, string workspaceId,
        DateTimeOffset now, TimeSpan lifetime)
    {
        InvalidateUnused(connection, transaction, workspaceId);
        var token = OpaqueToken.Create(OpaqueToken.BootstrapPrefix);
        var expiresAt = now + lifetime;
        Sql.Execute(connection, transaction,
            "INSERT INTO bootstrap_tokens (token_hash, workspace_id, created_at, expires_at, used_at) VALUES (@hash, @ws, @now, @expires, NULL)",
            ("@hash", OpaqueToken.Hash(token)), ("@ws", workspaceId), ("@now", now.ToDb()), ("@expires", expiresAt.ToDb()));
        return (token, expiresAt);
    }

    /// <summary>Marks the token used and returns its workspace id, or null when unknown, used or expired.</summary>
    public static string? Redeem(DbConnection connection, DbTransaction transaction, string token, DateTimeOffset now) =>
        Sql.Scalar(connection, transaction,
            "UPDATE bootstrap_tokens SET used_at = @now WHERE token_hash = @hash AND used_at IS NULL AND expires_at > @now RETURNING workspace_id",
            ("@hash", OpaqueToken.Hash(token)), ("@now", now.ToDb())) as string;

    public static void InvalidateUnused(DbConnection connection, DbTransaction transaction, string workspaceId) =>
        Sql.Execute(connection, transaction, "DELETE FROM bootstrap_tokens WHERE workspace_id = @ws AND used_at IS NULL", ("@ws", workspaceId));

    /// <summary>Deletes up to <paramref name="limit"/> tokens that expired before <paramref name="cutoff"/> (used or not); returns how many.</summary>
    public static int DeleteExpiredBefore(DbConnection connection, DbTransaction transaction, DateTimeOffset cutoff, int limit) =>
        Sql.Execute(connection, transaction,
            "DELETE FROM bootstrap_tokens WHERE token_hash IN (SELECT token_hash FROM bootstrap_tokens WHERE expires_at < @cutoff LIMIT @limit)",
            ("@cutoff", cutoff.ToDb()), ("@limit", limit));
}
