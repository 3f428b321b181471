using System.Data.Common;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi;

/// <summary>A stored UI session: its protected ticket and idle expiry.</summary>
internal sealed record UiSessionRow(string UserId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, byte[] Ticket);

/// <summary>SQL of ui_sessions, found by the SHA-256 of the session id.</summary>
internal static class UiSessionRows
{
    public static void Insert(DbConnection c, DbTransaction t, byte[] idHash, string userId, DateTimeOffset now, DateTimeOffset expires, byte[] ticket) =>
        Sql.Execute(c, t, """
            INSERT INTO ui_sessions (id_hash, user_id, created_at, expires_at, renewed_at, ticket) VALUES (@h, @u, @now, @exp, @now, @t)
            """, ("@h", idHash), ("@u", userId), ("@now", now.ToDb()), ("@exp", expires.ToDb()), ("@t", ticket));

    /// <summary>Renews only a session still held and unexpired: one signed out or expired stays ended.</summary>
    public static int Renew(DbConnection c, DbTransaction t, byte[] idHash, DateTimeOffset now, DateTimeOffset expires, byte[] ticket) =>
        Sql.Execute(c, t, "UPDATE ui_sessions SET expires_at = @exp, renewed_at = @now, ticket = @t WHERE id_hash = @h AND expires_at > @now",
            ("@exp", expires.ToDb()), ("@now", now.ToDb()), ("@t", ticket), ("@h", idHash));

    public static UiSessionRow? Find(DbConnection c, byte[] idHash, DateTimeOffset now) =>
        Sql.Single(c, null, "SELECT user_id, created_at, expires_at, ticket FROM ui_sessions WHERE id_hash = @h AND expires_at > @now",
            r => new UiSessionRow(r.GetString(0), r.Time(1), r.Time(2), (byte[])r.GetValue(3)), ("@h", idHash), ("@now", now.ToDb()));

    public static int Delete(DbConnection c, DbTransaction t, byte[] idHash) =>
        Sql.Execute(c, t, "DELETE FROM ui_sessions WHERE id_hash = @h", ("@h", idHash));

    public static int DeleteExpiredBefore(DbConnection c, DbTransaction t, DateTimeOffset now, int limit) =>
        Sql.Execute(c, t, "DELETE FROM ui_sessions WHERE id_hash IN (SELECT id_hash FROM ui_sessions WHERE expires_at <= @now LIMIT @n)",
            ("@now", now.ToDb()), ("@n", limit));
}
