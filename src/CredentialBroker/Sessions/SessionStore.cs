using System.Text.Json;
using System.Data.Common;
using Xares.Broker.Security;
using Xares.Broker.Storage;

namespace Xares.Broker.Sessions;

/// <summary>
/// Workspace sessions and their rotating tokens (xst_…). Every token a session ever had is kept
/// as a hash, so a superseded one presented again is recognised as a replay.
/// </summary>
internal static class SessionStore
{
    public static string Open(DbConnection connection, DbTransaction transaction, string workspaceId, DateTimeOffset now,
        DateTimeOffset sessionExpiresAt, string? remoteAddress)
    {
        var sessionId = OpaqueToken.NewId("ses_");
        Sql.Execute(connection, transaction,
            "INSERT INTO sessions (id, workspace_id, created_at, expires_at, revoked_at, remote_address) VALUES (@id, @ws, @now, @expires, NULL, @remote)",
            ("@id", sessionId), ("@ws", workspaceId), ("@now", now.ToDb()), ("@expires", sessionExpiresAt.ToDb()), ("@remote", remoteAddress));
        return sessionId;
    }

    /// <summary>
    /// Issues a new token for the session and supersedes every earlier one, noting the refresh's
    /// retry key (hashed) on the superseded tokens so a retry of a refresh whose reply was lost is recognised.
    /// </summary>
    public static string IssueToken(DbConnection connection, DbTransaction transaction, string sessionId, DateTimeOffset now, DateTimeOffset expiresAt,
        byte[]? retryKeyHash = null)
    {
        Sql.Execute(connection, transaction,
            "UPDATE session_tokens SET superseded_at = @now, retry_key_hash = @key WHERE session_id = @id AND superseded_at IS NULL",
            ("@id", sessionId), ("@now", now.ToDb()), ("@key", retryKeyHash));
        var token = OpaqueToken.Create(OpaqueToken.SessionPrefix);
        Sql.Execute(connection, transaction,
            "INSERT INTO session_tokens (token_hash, session_id, created_at, expires_at, superseded_at) VALUES (@hash, @id, @now, @expires, NULL)",
            ("@hash", OpaqueToken.Hash(token)), ("@id", sessionId), ("@now", now.ToDb()), ("@expires", expiresAt.ToDb()));
        return token;
    }

    public static SessionLookup Authenticate(DbConnection connection, DbTransaction? transaction, string? token, DateTimeOffset now)
    {
        if (!OpaqueToken.HasShape(token, OpaqueToken.SessionPrefix))
        {
            return new SessionLookup(SessionCheck.Unknown, null);
        }
        var row = Sql.Single(connection, transaction, $"{TokenRowSelect} WHERE t.token_hash = @hash", ReadTokenRow, ("@hash", OpaqueToken.Hash(token!)));
        return Check(row, now);
    }

    /// <summary>
    /// <see cref="Authenticate"/>, and in the same statement the rows <paramref name="joined"/> selects
    /// for the token's workspace owner (it names the owner as <c>w.user_id</c>), in the order of
    /// <paramref name="orderBy"/> (over its columns as <c>j.…</c>): one round trip where the second
    /// read would otherwise wait for the first. The rows come whatever the check says.
    /// PostgreSQL only (LATERAL).
    /// </summary>
    public static (SessionLookup Lookup, List<T> Joined) AuthenticateJoined<T>(DbConnection connection, string? token, DateTimeOffset now,
        string joined, string orderBy, Func<DbDataReader, int, T?> readJoined, params (string Name, object? Value)[] parameters)
        where T : class
    {
        if (!OpaqueToken.HasShape(token, OpaqueToken.SessionPrefix))
        {
            return (new SessionLookup(SessionCheck.Unknown, null), []);
        }
        TokenRow? tokenRow = null;
        var rows = Sql.Query(connection, null,
            $"SELECT {TokenColumns}, j.* FROM {TokenTables} LEFT JOIN LATERAL ({joined}) j ON TRUE WHERE t.token_hash = @hash ORDER BY {orderBy}",
            r =>
            {
                tokenRow ??= ReadTokenRow(r);
                return r.IsDBNull(TokenColumnCount) ? null : readJoined(r, TokenColumnCount);
            },
            [("@hash", OpaqueToken.Hash(token!)), .. parameters]);
        return (Check(tokenRow, now), rows.OfType<T>().ToList());
    }

    private static SessionLookup Check(TokenRow? row, DateTimeOffset now)
    {
        if (row is null)
        {
            return new SessionLookup(SessionCheck.Unknown, null);
        }
        var check = row switch
        {
            { SessionRevoked: true } or { WorkspaceRevoked: true } => SessionCheck.Revoked,
            { Superseded: true } => SessionCheck.Replayed,
            _ when row.Session.TokenExpiresAt <= now || row.Session.SessionExpiresAt <= now => SessionCheck.Expired,
            _ => SessionCheck.Valid,
        };
        return new SessionLookup(check, row.Session);
    }

    /// <summary>
    /// The session whose <paramref name="token"/> was superseded, at or after <paramref name="since"/>,
    /// by a refresh sent with this retry key, if the session and its workspace are still live: the
    /// sidecar is retrying a refresh whose reply it never got. Null otherwise.
    /// </summary>
    public static SessionContext? FindLostRefresh(DbConnection connection, DbTransaction transaction, string? token, byte[] retryKeyHash,
        DateTimeOffset now, DateTimeOffset since)
    {
        if (!OpaqueToken.HasShape(token, OpaqueToken.SessionPrefix))
        {
            return null;
        }
        var row = Sql.Single(connection, transaction,
            $"""
            {TokenRowSelect}
            WHERE t.token_hash = @hash AND t.retry_key_hash = @key AND t.superseded_at >= @since
              AND s.revoked_at IS NULL AND s.expires_at > @now AND w.revoked_at IS NULL
            """,
            ReadTokenRow, ("@hash", OpaqueToken.Hash(token!)), ("@key", retryKeyHash), ("@since", since.ToDb()), ("@now", now.ToDb()));
        return row?.Session;
    }

    private const string TokenColumns = "t.expires_at, t.superseded_at, s.id, s.workspace_id, s.expires_at, s.revoked_at, w.user_id, w.allowed_hosts, w.revoked_at";
    private const int TokenColumnCount = 9;
    private const string TokenTables = "session_tokens t JOIN sessions s ON s.id = t.session_id JOIN workspaces w ON w.id = s.workspace_id";
    private const string TokenRowSelect = $"SELECT {TokenColumns} FROM {TokenTables}";

    private sealed record TokenRow(SessionContext Session, bool Superseded, bool SessionRevoked, bool WorkspaceRevoked);

    private static TokenRow ReadTokenRow(DbDataReader r) => new(
        new SessionContext(r.GetString(2), r.GetString(3), r.GetString(6), r.IsDBNull(7) ? null : JsonSerializer.Deserialize<string[]>(r.GetString(7)),
            r.Time(4), r.Time(0)),
        Superseded: !r.IsDBNull(1), SessionRevoked: !r.IsDBNull(5), WorkspaceRevoked: !r.IsDBNull(8));

    /// <summary>
    /// When the session ends if nothing revokes it first, or null when it can no longer be used
    /// (by any of its tokens): revoked, past its end, or its workspace revoked.
    /// </summary>
    public static DateTimeOffset? LiveUntil(DbConnection connection, string sessionId, DateTimeOffset now) =>
        Sql.Query(connection, null,
            """
            SELECT s.expires_at FROM sessions s JOIN workspaces w ON w.id = s.workspace_id
            WHERE s.id = @id AND s.revoked_at IS NULL AND s.expires_at > @now AND w.revoked_at IS NULL
            """,
            r => (DateTimeOffset?)r.Time(0), ("@id", sessionId), ("@now", now.ToDb())).FirstOrDefault();

    /// <summary>Ends sessions of a workspace (all, or all but <paramref name="exceptSessionId"/>); returns the ids ended.</summary>
    public static List<string> RevokeForWorkspace(DbConnection connection, DbTransaction transaction, string workspaceId, DateTimeOffset now,
        string? exceptSessionId = null) =>
        Sql.Query(connection, transaction,
            "UPDATE sessions SET revoked_at = @now WHERE workspace_id = @ws AND revoked_at IS NULL AND expires_at > @now AND id <> COALESCE(@except, '') RETURNING id",
            r => r.GetString(0), ("@ws", workspaceId), ("@now", now.ToDb()), ("@except", exceptSessionId));

    /// <summary>The live sessions of each of these workspaces, oldest first: a few statements for a whole listing page, not one per workspace.</summary>
    public static ILookup<string, (string Id, DateTimeOffset ExpiresAt)> ActiveForWorkspaces(DbConnection connection, IEnumerable<string> workspaceIds,
        DateTimeOffset now) =>
        Sql.QueryIn(connection, null, workspaceIds,
                names => $"SELECT workspace_id, id, expires_at FROM sessions WHERE workspace_id IN ({names}) AND revoked_at IS NULL AND expires_at > @now ORDER BY created_at, id",
                r => (WorkspaceId: r.GetString(0), Id: r.GetString(1), ExpiresAt: r.Time(2)), ("@now", now.ToDb()))
            .ToLookup(s => s.WorkspaceId, s => (s.Id, s.ExpiresAt), StringComparer.Ordinal);

    /// <summary>
    /// The live sessions of these workspaces, oldest first, each with when its sidecar was last seen:
    /// its latest token refresh or lease, whichever came later.
    /// </summary>
    public static List<LiveSession> LiveWithLastSeen(DbConnection connection, IEnumerable<string> workspaceIds, DateTimeOffset now) =>
        Sql.QueryIn(connection, null, workspaceIds,
            names => $"""
                SELECT s.workspace_id, s.id, s.created_at, s.expires_at, s.remote_address,
                       (SELECT MAX(t.created_at) FROM session_tokens t WHERE t.session_id = s.id),
                       (SELECT MAX(l.issued_at) FROM leases l WHERE l.session_id = s.id)
                FROM sessions s WHERE s.workspace_id IN ({names}) AND s.revoked_at IS NULL AND s.expires_at > @now ORDER BY s.created_at, s.id
                """,
            r => new LiveSession(r.GetString(0), r.GetString(1), r.Time(2), r.Time(3), r.NullableString(4),
                new[] { r.Time(2), r.NullableTime(5) ?? r.Time(2), r.NullableTime(6) ?? r.Time(2) }.Max()),
            ("@now", now.ToDb()));

    /// <summary>
    /// Deletes up to <paramref name="limit"/> sessions whose hard end is before <paramref name="cutoff"/>
    /// (revoked ones too: they would have ended by then), and with them (ON DELETE CASCADE) every
    /// token they had; returns how many sessions. A token of such a session presented later is
    /// unknown, and refused.
    /// </summary>
    public static int DeleteExpiredBefore(DbConnection connection, DbTransaction transaction, DateTimeOffset cutoff, int limit) =>
        Sql.Execute(connection, transaction,
            "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < @cutoff ORDER BY expires_at, id LIMIT @limit)",
            ("@cutoff", cutoff.ToDb()), ("@limit", limit));
}
