using System.Data.Common;
using Xares.Broker.Storage;

namespace Xares.Broker.Connections;

/// <summary>A stored redirect grant: everything but the state, the session id hashed, the verifier protected.</summary>
internal sealed record AuthorizationRequestRow(byte[] SessionHash, string UserId, string ProviderId, string? ReconnectId, string RedirectUri,
    byte[] ProtectedVerifier, DateTimeOffset ExpiresAt);

/// <summary>SQL of authorization_requests, found by the SHA-256 of the grant's state.</summary>
internal static class AuthorizationRequestRows
{
    public static void Insert(DbConnection c, DbTransaction t, byte[] stateHash, AuthorizationRequestRow row, DateTimeOffset now) =>
        Sql.Execute(c, t, """
            INSERT INTO authorization_requests (state_hash, session_hash, user_id, provider_id, reconnect_id, redirect_uri, code_verifier, created_at, expires_at)
            VALUES (@h, @s, @u, @p, @r, @uri, @v, @now, @exp)
            """, ("@h", stateHash), ("@s", row.SessionHash), ("@u", row.UserId), ("@p", row.ProviderId), ("@r", row.ReconnectId), ("@uri", row.RedirectUri),
            ("@v", row.ProtectedVerifier), ("@now", now.ToDb()), ("@exp", row.ExpiresAt.ToDb()));

    /// <summary>Deletes the grant and gives it back: at most one caller, on any replica, ever gets a row for a state.</summary>
    public static AuthorizationRequestRow? Take(DbConnection c, DbTransaction t, byte[] stateHash) =>
        Sql.Single(c, t, """
            DELETE FROM authorization_requests WHERE state_hash = @h
            RETURNING session_hash, user_id, provider_id, reconnect_id, redirect_uri, code_verifier, expires_at
            """, r => new AuthorizationRequestRow((byte[])r.GetValue(0), r.GetString(1), r.GetString(2), r.NullableString(3), r.GetString(4),
                (byte[])r.GetValue(5), r.Time(6)), ("@h", stateHash));

    /// <summary>Leaves a session room for one more grant: its oldest beyond <paramref name="keep"/> go.</summary>
    public static int TrimSession(DbConnection c, DbTransaction t, byte[] sessionHash, int keep) =>
        Sql.Execute(c, t, """
            DELETE FROM authorization_requests WHERE session_hash = @s AND state_hash NOT IN
                (SELECT state_hash FROM authorization_requests WHERE session_hash = @s ORDER BY created_at DESC, state_hash LIMIT @keep)
            """, ("@s", sessionHash), ("@keep", keep));

    public static int DeleteExpiredBefore(DbConnection c, DbTransaction t, DateTimeOffset now, int limit) =>
        Sql.Execute(c, t, "DELETE FROM authorization_requests WHERE state_hash IN (SELECT state_hash FROM authorization_requests WHERE expires_at <= @now LIMIT @n)",
            ("@now", now.ToDb()), ("@n", limit));
}
