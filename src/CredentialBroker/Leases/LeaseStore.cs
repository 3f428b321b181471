using System.Data.Common;
using Xares.Broker.Api;
using Xares.Broker.Storage;

namespace Xares.Broker.Leases;

internal static class LeaseStore
{
    internal const string Columns = "id, workspace_id, session_id, credential_id, secret_version, issued_at, expires_at, revoked_at, rejected_at";

    /// <summary>The values of a new lease row, in <see cref="Columns"/> order, named as <see cref="NewRowParameters"/> names them.</summary>
    internal const string NewRowValues = "@id, @ws, @session, @cred, @version, @issued, @expires, NULL, NULL";

    public static void Insert(DbConnection connection, DbTransaction transaction, LeaseRecord lease) =>
        Sql.Write(connection, transaction, $"INSERT INTO leases ({Columns}) VALUES ({NewRowValues})", NewRowParameters(lease));

    internal static (string, object?)[] NewRowParameters(LeaseRecord lease) =>
    [
        ("@id", lease.Id), ("@ws", lease.WorkspaceId), ("@session", lease.SessionId), ("@cred", lease.CredentialId),
        ("@version", lease.SecretVersion), ("@issued", lease.IssuedAt.ToDb()), ("@expires", lease.ExpiresAt.ToDb()),
    ];

    public static LeaseRecord? Find(DbConnection connection, DbTransaction? transaction, string id) =>
        Sql.Single(connection, transaction, $"SELECT {Columns} FROM leases WHERE id = @id", Read, ("@id", id));

    /// <summary>Before every lease in <see cref="ListBefore"/>'s newest-first order.</summary>
    public static ListingPosition Newest { get; } = new(long.MaxValue, "");

    /// <summary>
    /// Leases of a workspace (or of every workspace of the given user), newest first (by issue time,
    /// then id), after <paramref name="before"/> in that order; only live ones unless <paramref name="includeEnded"/>.
    /// </summary>
    public static List<LeaseRecord> ListBefore(DbConnection connection, string? workspaceId, string? userId, DateTimeOffset now, bool includeEnded,
        ListingPosition before, int count) =>
        Sql.Query(connection, null,
            $"""
            SELECT {string.Join(", ", Columns.Split(", ").Select(c => "l." + c))} FROM leases l JOIN workspaces w ON w.id = l.workspace_id
            WHERE (CAST(@ws AS TEXT) IS NULL OR l.workspace_id = @ws) AND (CAST(@user AS TEXT) IS NULL OR w.user_id = @user)
              AND (@all = 1 OR (l.revoked_at IS NULL AND l.expires_at > @now))
              AND (l.issued_at < @at OR (l.issued_at = @at AND l.id < @id))
            ORDER BY l.issued_at DESC, l.id DESC LIMIT @count
            """,
            Read, [("@ws", workspaceId), ("@user", userId), ("@now", now.ToDb()), ("@all", includeEnded ? 1 : 0), .. before.Parameters(count)]);

    /// <summary>
    /// The user's live leases, newest first, at most <paramref name="count"/>, each with what it hands
    /// out: its stored credential, minted token or OAuth connection (the web UI's "My workspaces").
    /// </summary>
    public static List<LiveLease> LiveForUser(DbConnection connection, string userId, DateTimeOffset now, int count) =>
        Sql.Query(connection, null,
            $"""
            SELECT {string.Join(", ", Columns.Split(", ").Select(c => "l." + c))},
                   c.kind, COALESCE(c.name, c.provider), c.url, m.git_url, p.name, p.git_url
            FROM leases l JOIN workspaces w ON w.id = l.workspace_id
            LEFT JOIN credentials c ON c.id = l.credential_id
            LEFT JOIN minted_tokens m ON m.id = l.credential_id
            LEFT JOIN oauth_connections o ON o.id = l.credential_id
            LEFT JOIN oauth_providers p ON p.id = o.provider_id
            WHERE w.user_id = @user AND l.revoked_at IS NULL AND l.expires_at > @now
            ORDER BY l.issued_at DESC, l.id DESC LIMIT @count
            """,
            r => r.NullableString(9) is { } kind
                ? new LiveLease(Read(r), kind, r.GetString(10), r.NullableString(11))
                : r.NullableString(12) is { } mintedUrl
                    ? new LiveLease(Read(r), "github-app", "GitHub App token", mintedUrl)
                    : new LiveLease(Read(r), "connection", r.NullableString(13) ?? "connection", r.NullableString(14)),
            ("@user", userId), ("@now", now.ToDb()), ("@count", count));

    /// <summary>Deletes up to <paramref name="limit"/> leases that expired before <paramref name="cutoff"/> (revoked ones too); returns how many.</summary>
    public static int DeleteExpiredBefore(DbConnection connection, DbTransaction transaction, DateTimeOffset cutoff, int limit) =>
        Sql.Execute(connection, transaction,
            "DELETE FROM leases WHERE id IN (SELECT id FROM leases WHERE expires_at < @cutoff ORDER BY expires_at LIMIT @limit)",
            ("@cutoff", cutoff.ToDb()), ("@limit", limit));

    /// <summary>
    /// Which of these leases are still live for the workspace: not revoked, not expired, and
    /// their credential still at the secret version they were issued for (or their minted token unrevoked). One statement per 200
    /// ids (<see cref="Sql.QueryIn{T}"/>), not one per lease.
    /// </summary>
    public static List<string> StillValid(DbConnection connection, string workspaceId, IReadOnlyCollection<string> leaseIds, DateTimeOffset now)
    {
        var asked = leaseIds.Distinct(StringComparer.Ordinal).Take(MaxValidatedLeases).ToList();
        var valid = Sql.QueryIn(connection, null, asked,
            names => $"""
                SELECT l.id FROM leases l
                LEFT JOIN credentials c ON c.id = l.credential_id AND c.secret_version = l.secret_version
                LEFT JOIN minted_tokens m ON m.id = l.credential_id AND m.revoked_at IS NULL
                WHERE l.id IN ({names}) AND l.workspace_id = @ws AND l.revoked_at IS NULL AND l.expires_at > @now
                  AND (c.id IS NOT NULL OR m.id IS NOT NULL)
                """,
            r => r.GetString(0), ("@ws", workspaceId), ("@now", now.ToDb())).ToHashSet(StringComparer.Ordinal);
        // In the order asked.
        return asked.Where(valid.Contains).ToList();
    }

    /// <summary>Most lease ids one validation looks at; the rest of a longer list are answered as not valid.</summary>
    public const int MaxValidatedLeases = 1000;

    /// <summary>A workspace's live leases with what decides where their secret goes: the credential's kind, provider and url.</summary>
    public static List<(string LeaseId, string Kind, string Provider, string? Url)> LiveWithDestination(DbConnection connection, DbTransaction transaction,
        string workspaceId, DateTimeOffset now) =>
        Sql.Query(connection, transaction,
            """
            SELECT l.id, c.kind, c.provider, c.url FROM leases l JOIN credentials c ON c.id = l.credential_id
            WHERE l.workspace_id = @ws AND l.revoked_at IS NULL AND l.expires_at > @now ORDER BY l.id
            """,
            r => (r.GetString(0), r.GetString(1), r.GetString(2), r.NullableString(3)), ("@ws", workspaceId), ("@now", now.ToDb()));

    /// <summary>Marks a lease rejected once; false when it already was (rule g: one count per lease).</summary>
    public static bool MarkRejected(DbConnection connection, DbTransaction transaction, string id, DateTimeOffset now) =>
        Sql.Execute(connection, transaction, "UPDATE leases SET rejected_at = @now WHERE id = @id AND rejected_at IS NULL", ("@id", id), ("@now", now.ToDb())) == 1;

    private static LeaseRecord Read(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.Time(5), r.Time(6), r.NullableTime(7), r.NullableTime(8));
}
