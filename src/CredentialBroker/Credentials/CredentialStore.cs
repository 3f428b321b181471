using System.Data.Common;
using Xares.Broker.Credentials.Matching;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Credentials;

/// <summary>
/// Explicit SQL for the credentials table. Writers take the caller's transaction so a change
/// commits together with its audit record and revocations (fail closed).
/// </summary>
internal static class CredentialStore
{
    private const string Columns =
        "id, user_id, kind, provider, name, url, scheme, host, port, path, username, secret_version, kek_version, wrapped_dek, ciphertext, " +
        "secret_hint, expires_at, created_at, updated_at, rejection_count, flagged_at, " +
        "total_uses, uses_this_month, usage_month, last_used_at, input_tokens, output_tokens, monthly_limit, delivery";

    // Usage counters are written only by CredentialUsageStore; inserts take their defaults.
    private const string InsertColumns =
        "id, user_id, kind, provider, name, url, scheme, host, port, path, username, secret_version, kek_version, wrapped_dek, ciphertext, " +
        "secret_hint, expires_at, created_at, updated_at, rejection_count, flagged_at, monthly_limit, delivery";

    private const string GitColumns = "id, user_id, provider, url, username, secret_version, kek_version, wrapped_dek, ciphertext, expires_at, uses_this_month, usage_month, monthly_limit";

    public static void Insert(DbConnection connection, DbTransaction transaction, CredentialRecord r) =>
        Sql.Execute(connection, transaction,
            $"""
            INSERT INTO credentials ({InsertColumns}) VALUES (@id, @user, @kind, @provider, @name, @url, @scheme, @host, @port, @path, @username,
                @version, @kek, @dek, @ciphertext, @hint, @expires, @created, @updated, @rejections, @flagged, @limit, @delivery)
            """,
            Parameters(r));

    /// <summary>Writes every mutable column of <paramref name="r"/>; id, owner, kind and creation time never change.</summary>
    public static void Update(DbConnection connection, DbTransaction transaction, CredentialRecord r) =>
        Sql.Execute(connection, transaction,
            """
            UPDATE credentials SET provider = @provider, name = @name, url = @url, scheme = @scheme, host = @host, port = @port, path = @path,
                username = @username, secret_version = @version, kek_version = @kek, wrapped_dek = @dek, ciphertext = @ciphertext,
                secret_hint = @hint, expires_at = @expires, updated_at = @updated, rejection_count = @rejections, flagged_at = @flagged,
                monthly_limit = @limit, delivery = @delivery
            WHERE id = @id
            """,
            Parameters(r));

    /// <summary>Crypto-shred: the row, and with it the only copy of the wrapped data key, is gone.</summary>
    public static bool Delete(DbConnection connection, DbTransaction transaction, string id) =>
        Sql.Execute(connection, transaction, "DELETE FROM credentials WHERE id = @id", ("@id", id)) == 1;

    public static CredentialRecord? Find(DbConnection connection, DbTransaction? transaction, string id) =>
        Sql.Single(connection, transaction, $"SELECT {Columns} FROM credentials WHERE id = @id", Read, ("@id", id));

    /// <summary>The credentials whose ids <paramref name="idsSql"/> selects (a subquery with its parameters), oldest first.</summary>
    public static List<CredentialRecord> ListIn(DbConnection connection, string idsSql, params (string Name, object? Value)[] parameters) =>
        Sql.Query(connection, null, $"SELECT {Columns} FROM credentials WHERE id IN ({idsSql}) ORDER BY created_at, id", Read, parameters);

    public static List<string> ListIds(DbConnection connection, DbTransaction? transaction, string userId) =>
        Sql.Query(connection, transaction, "SELECT id FROM credentials WHERE user_id = @user ORDER BY created_at, id", r => r.GetString(0), ("@user", userId));

    /// <summary>The user's AI credentials (of one provider, when given), oldest first (created_at, id). Expiry is left to the caller.</summary>
    public static List<CredentialRecord> ListAi(DbConnection connection, DbTransaction? transaction, string userId, string? provider = null) =>
        provider is null
            ? Sql.Query(connection, transaction, $"SELECT {Columns} FROM credentials WHERE user_id = @user AND kind = 'ai' ORDER BY created_at, id",
                Read, ("@user", userId))
            : Sql.Query(connection, transaction,
                $"SELECT {Columns} FROM credentials WHERE user_id = @user AND kind = 'ai' AND provider = @provider ORDER BY created_at, id",
                Read, ("@user", userId), ("@provider", provider));

    /// <summary>
    /// The user's git credentials for one scheme, host and port, oldest first (created_at, id), for
    /// <see cref="GitCredentialMatcher"/>. Expiry is left to the caller. Rows whose stored URL no
    /// longer parses, or no longer names this origin, were edited in the database and are left out.
    /// </summary>
    public static List<GitCredentialRow> FindGitCandidates(DbConnection connection, DbTransaction? transaction, string userId, string scheme, string host, int port) =>
        OfOrigin(Sql.Query(connection, transaction, GitCandidatesSelect("@user"), r => ReadGit(r, 0),
            ("@user", userId), ("@scheme", scheme), ("@host", host), ("@port", port)), scheme, host, port);

    /// <summary>
    /// The session behind <paramref name="token"/> and its owner's git candidates for the origin
    /// (as <see cref="FindGitCandidates"/>), read in one statement.
    /// </summary>
    public static (SessionLookup Lookup, List<GitCredentialRow> Candidates) AuthenticateWithGitCandidates(DbConnection connection, string? token,
        DateTimeOffset now, string scheme, string host, int port)
    {
        var (lookup, rows) = SessionStore.AuthenticateJoined(connection, token, now, GitCandidatesSelect("w.user_id"), "j.created_at, j.id", ReadGit,
            ("@scheme", scheme), ("@host", host), ("@port", port));
        return (lookup, OfOrigin(rows, scheme, host, port));
    }

    // created_at rides after the read columns so a joined read can keep the order.
    private static string GitCandidatesSelect(string user) =>
        $"SELECT {GitColumns}, created_at FROM credentials WHERE user_id = {user} AND kind = 'git' AND scheme = @scheme AND host = @host AND port = @port ORDER BY created_at, id";

    private static List<GitCredentialRow> OfOrigin(IEnumerable<GitCredentialRow?> rows, string scheme, string host, int port) =>
        rows.OfType<GitCredentialRow>()
            .Where(row => row.Destination.Scheme == scheme && row.Destination.Host == host && row.Destination.Port == port)
            .ToList();

    /// <summary>One git credential by id, or null (unknown, not git, or its stored URL no longer parses).</summary>
    public static GitCredentialRow? FindGit(DbConnection connection, DbTransaction? transaction, string credentialId) =>
        Sql.Query(connection, transaction, $"SELECT {GitColumns} FROM credentials WHERE id = @id AND kind = 'git'", r => ReadGit(r, 0), ("@id", credentialId))
            .FirstOrDefault();

    /// <summary>Each origin the user has git credentials for, once, with whether any of them is path-scoped (git's useHttpPath).</summary>
    public static List<GitOrigin> ListGitOrigins(DbConnection connection, string userId) =>
        Sql.Query(connection, null, "SELECT url FROM credentials WHERE user_id = @user AND kind = 'git' ORDER BY created_at, id",
                r => GitDestination.TryParse(r.GetString(0), out var destination, out _) ? destination : null, ("@user", userId))
            .OfType<GitDestination>()
            .GroupBy(d => d.OriginUrl, StringComparer.Ordinal)
            .Select(g => new GitOrigin(g.Key, g.Any(d => d.HasPath)))
            .ToList();

    /// <summary>
    /// Counts a rejection (rule g) and flags the credential for a re-test, but only while
    /// <paramref name="secretVersion"/> is still its current version. True when it was counted.
    /// </summary>
    public static bool RecordRejection(DbConnection connection, DbTransaction transaction, string credentialId, long secretVersion, DateTimeOffset now) =>
        Sql.Execute(connection, transaction,
            "UPDATE credentials SET rejection_count = rejection_count + 1, flagged_at = @now WHERE id = @id AND secret_version = @version",
            ("@id", credentialId), ("@version", secretVersion), ("@now", now.ToDb())) == 1;

    private static (string, object?)[] Parameters(CredentialRecord r) =>
    [
        ("@id", r.Id), ("@user", r.UserId), ("@kind", r.Kind), ("@provider", r.Provider), ("@name", r.Name), ("@url", r.Url),
        ("@scheme", r.Git?.Scheme), ("@host", r.Git?.Host), ("@port", r.Git?.Port), ("@path", r.Git?.Path), ("@username", r.Username),
        ("@version", r.SecretVersion), ("@kek", r.Sealed.KekVersion), ("@dek", r.Sealed.WrappedDataKey), ("@ciphertext", r.Sealed.Ciphertext),
        ("@hint", r.SecretHint), ("@expires", r.ExpiresAt.ToDb()), ("@created", r.CreatedAt.ToDb()), ("@updated", r.UpdatedAt.ToDb()),
        ("@rejections", r.RejectionCount), ("@flagged", r.FlaggedAt.ToDb()), ("@limit", r.MonthlyLimit),
        ("@delivery", r.Delivery),
    ];

    private static CredentialRecord Read(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.NullableString(4), r.NullableString(5),
        r.IsDBNull(6) ? null : new GitEndpoint(r.GetString(6), r.GetString(7), r.GetInt32(8), r.GetString(9)),
        r.NullableString(10), r.GetInt64(11), new SealedSecret(r.GetInt32(12), (byte[])r[13], (byte[])r[14]),
        r.GetString(15), r.NullableTime(16), r.Time(17), r.Time(18), r.GetInt64(19), r.NullableTime(20))
    {
        Usage = new CredentialUsage(r.GetInt64(21), r.GetInt64(22), r.NullableString(23), r.NullableTime(24), r.GetInt64(25), r.GetInt64(26)),
        MonthlyLimit = r.NullableInt64(27),
        Delivery = r.GetString(28),
    };

    /// <summary>A row of <see cref="GitColumns"/> starting at column <paramref name="first"/>.</summary>
    private static GitCredentialRow? ReadGit(DbDataReader r, int first) =>
        GitDestination.TryParse(r.GetString(first + 3), out var destination, out _)
            ? new GitCredentialRow(r.GetString(first), r.GetString(first + 1), r.GetString(first + 2), destination, r.GetString(first + 4),
                r.GetInt64(first + 5), r.NullableTime(first + 9), new SealedSecret(r.GetInt32(first + 6), (byte[])r[first + 7], (byte[])r[first + 8]),
                CredentialUsage.None with { UsesThisMonth = r.GetInt64(first + 10), UsageMonth = r.NullableString(first + 11) }, r.NullableInt64(first + 12))
            : null;
}
