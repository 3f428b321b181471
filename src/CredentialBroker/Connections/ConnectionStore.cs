using System.Data.Common;
using System.Globalization;
using Xares.Broker.Api;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Connections;

/// <summary>SQL for oauth_connections. Every state change is conditional on the state it expects.</summary>
internal static class ConnectionStore
{
    private const string Columns =
        "id, provider_id, user_id, workspace_id, status, user_code, verification_uri, verification_uri_complete, device_expires_at, poll_interval_ms, "
        + "next_poll_at, device_kek_version, device_wrapped_dek, device_ciphertext, token_version, kek_version, wrapped_dek, ciphertext, access_expires_at, "
        + "has_refresh_token, refresh_claim_until, refresh_failures, refresh_not_before, last_error, created_at, connected_at, refreshed_at";

    public static void InsertPending(DbConnection c, DbTransaction t, ConnectionRecord k) =>
        Sql.Write(c, t,
            $"""
            INSERT INTO oauth_connections ({Columns})
            VALUES (@id, @provider, @user, @ws, @status, @code, @uri, @complete, @dexp, @interval, @next, @dkek, @ddek, @dct, 0, NULL, NULL, NULL, NULL,
                0, NULL, 0, NULL, NULL, @created, NULL, NULL)
            """,
            ("@id", k.Id), ("@provider", k.ProviderId), ("@user", k.UserId), ("@ws", k.WorkspaceId), ("@status", k.Status), ("@code", k.UserCode),
            ("@uri", k.VerificationUri), ("@complete", k.VerificationUriComplete), ("@dexp", k.DeviceExpiresAt.ToDb()),
            ("@interval", (long)k.PollInterval.TotalMilliseconds), ("@next", k.NextPollAt.ToDb()), ("@dkek", k.SealedDeviceCode!.KekVersion),
            ("@ddek", k.SealedDeviceCode.WrappedDataKey), ("@dct", k.SealedDeviceCode.Ciphertext), ("@created", k.CreatedAt.ToDb()));

    public static ConnectionRecord? Find(DbConnection c, DbTransaction? t, string id) =>
        Sql.Single(c, t, $"SELECT {Columns} FROM oauth_connections WHERE id = @id", Read, ("@id", id));

    public static List<ConnectionRecord> ListForUserAfter(DbConnection c, string userId, ListingPosition after, int count) =>
        Sql.Query(c, null, $"SELECT {Columns} FROM oauth_connections WHERE user_id = @user AND {ListingPosition.AfterSql}", Read,
            [("@user", userId), .. after.Parameters(count)]);

    /// <summary>The user's newest non-pending connection with this provider.</summary>
    public static ConnectionRecord? CurrentFor(DbConnection c, DbTransaction? t, string userId, string providerId) =>
        Sql.Single(c, t,
            $"""
            SELECT {Columns} FROM oauth_connections
            WHERE user_id = @user AND provider_id = @provider AND status IN ('active', 'reconnect_required')
            ORDER BY created_at DESC, id DESC LIMIT 1
            """,
            Read, ("@user", userId), ("@provider", providerId));

    /// <summary>Every other connection of the user with this provider that a new one replaces.</summary>
    public static List<ConnectionRecord> ReplacedBy(DbConnection c, DbTransaction t, ConnectionRecord connection) =>
        Sql.Query(c, t,
            $"SELECT {Columns} FROM oauth_connections WHERE user_id = @user AND provider_id = @provider AND id <> @id AND status IN ('active', 'reconnect_required')",
            Read, ("@user", connection.UserId), ("@provider", connection.ProviderId), ("@id", connection.Id));

    public static List<ConnectionRecord> PendingDue(DbConnection c, DateTimeOffset now, int limit) =>
        Sql.Query(c, null, $"SELECT {Columns} FROM oauth_connections WHERE status = 'pending' AND next_poll_at <= @now ORDER BY next_poll_at LIMIT @n", Read,
            ("@now", now.ToDb()), ("@n", limit));

    public static List<string> IdsForProvider(DbConnection c, DbTransaction t, string providerId) =>
        Sql.Query(c, t, "SELECT id FROM oauth_connections WHERE provider_id = @p ORDER BY id", r => r.GetString(0), ("@p", providerId));

    /// <summary>Claims a pending row's next poll (replicas poll each device code once); false when another did.</summary>
    public static bool ClaimPoll(DbConnection c, DbTransaction t, string id, DateTimeOffset expected, DateTimeOffset claimUntil) =>
        Sql.Execute(c, t, "UPDATE oauth_connections SET next_poll_at = @claim WHERE id = @id AND status = 'pending' AND next_poll_at = @old",
            ("@claim", claimUntil.ToDb()), ("@id", id), ("@old", expected.ToDb())) == 1;

    public static void SchedulePoll(DbConnection c, DbTransaction t, string id, TimeSpan interval, DateTimeOffset next, string? lastError) =>
        Sql.Execute(c, t, "UPDATE oauth_connections SET poll_interval_ms = @i, next_poll_at = @next, last_error = @e WHERE id = @id AND status = 'pending'",
            ("@i", (long)interval.TotalMilliseconds), ("@next", next.ToDb()), ("@e", lastError), ("@id", id));

    /// <summary>The device grant ended without tokens: the device code goes, the status says why.</summary>
    public static bool EndPending(DbConnection c, DbTransaction t, string id, string status, string reason) =>
        Sql.Execute(c, t,
            """
            UPDATE oauth_connections SET status = @status, last_error = @e, next_poll_at = NULL,
                device_kek_version = NULL, device_wrapped_dek = NULL, device_ciphertext = NULL
            WHERE id = @id AND status = 'pending'
            """,
            ("@status", status), ("@e", reason), ("@id", id)) == 1;

    /// <summary>
    /// A grant produced tokens: they are stored at the next token version, the status becomes
    /// active, and any device code, refresh back-off and error go, in one statement. Conditional
    /// on the row still being <paramref name="expectedStatus"/> at <paramref name="expectedVersion"/>:
    /// a pending device grant (version 0), a new redirect-grant row, or a reconnect_required one.
    /// </summary>
    public static bool Grant(DbConnection c, DbTransaction t, string id, string expectedStatus, long expectedVersion, SealedSecret tokens,
        DateTimeOffset? accessExpiresAt, bool hasRefresh, DateTimeOffset now) =>
        Sql.Execute(c, t,
            """
            UPDATE oauth_connections SET status = 'active', token_version = @next, kek_version = @kek, wrapped_dek = @dek, ciphertext = @ct,
                access_expires_at = @aexp, has_refresh_token = @hr, connected_at = @now, last_error = NULL, next_poll_at = NULL,
                device_kek_version = NULL, device_wrapped_dek = NULL, device_ciphertext = NULL, user_code = NULL,
                refresh_claim_until = NULL, refresh_failures = 0, refresh_not_before = NULL
            WHERE id = @id AND status = @status AND token_version = @v
            """,
            ("@next", expectedVersion + 1), ("@kek", tokens.KekVersion), ("@dek", tokens.WrappedDataKey), ("@ct", tokens.Ciphertext),
            ("@aexp", accessExpiresAt.ToDb()), ("@hr", hasRefresh ? 1 : 0), ("@now", now.ToDb()), ("@id", id), ("@status", expectedStatus),
            ("@v", expectedVersion)) == 1;

    /// <summary>
    /// The row of a redirect grant whose code was just exchanged: inserted pending without a device
    /// code or poll time (no poller picks it up) and granted in the same transaction.
    /// </summary>
    public static void InsertForGrant(DbConnection c, DbTransaction t, string id, string providerId, string userId, DateTimeOffset now) =>
        Sql.Write(c, t,
            $"""
            INSERT INTO oauth_connections (id, provider_id, user_id, workspace_id, status, token_version, has_refresh_token, refresh_failures, created_at)
            VALUES (@id, @provider, @user, NULL, '{ConnectionStatus.Pending}', 0, 0, 0, @created)
            """,
            ("@id", id), ("@provider", providerId), ("@user", userId), ("@created", now.ToDb()));

    /// <summary>
    /// Takes the refresh claim of a connection at this token version: one refresh in flight per
    /// connection across every replica. False when another holds an unexpired claim, the version
    /// moved on, or refreshing is stopped or backing off.
    /// </summary>
    public static bool ClaimRefresh(DbConnection c, DbTransaction t, string id, long version, DateTimeOffset now, DateTimeOffset claimUntil) =>
        Sql.Execute(c, t,
            """
            UPDATE oauth_connections SET refresh_claim_until = @until
            WHERE id = @id AND token_version = @v AND status = 'active'
              AND (refresh_claim_until IS NULL OR refresh_claim_until <= @now)
              AND (refresh_not_before IS NULL OR refresh_not_before <= @now)
            """,
            ("@until", claimUntil.ToDb()), ("@id", id), ("@v", version), ("@now", now.ToDb())) == 1;

    /// <summary>Stores a refreshed pair (version + 1) and releases the claim; false when the version moved on (it cannot while the claim is held).</summary>
    public static bool StoreRefreshed(DbConnection c, DbTransaction t, string id, long version, SealedSecret tokens, DateTimeOffset? accessExpiresAt,
        bool hasRefresh, DateTimeOffset now) =>
        Sql.Execute(c, t,
            """
            UPDATE oauth_connections SET token_version = @next, kek_version = @kek, wrapped_dek = @dek, ciphertext = @ct, access_expires_at = @aexp,
                has_refresh_token = @hr, refreshed_at = @now, refresh_claim_until = NULL, refresh_failures = 0, refresh_not_before = NULL, last_error = NULL
            WHERE id = @id AND token_version = @v AND status = 'active'
            """,
            ("@next", version + 1), ("@kek", tokens.KekVersion), ("@dek", tokens.WrappedDataKey), ("@ct", tokens.Ciphertext),
            ("@aexp", accessExpiresAt.ToDb()), ("@hr", hasRefresh ? 1 : 0), ("@now", now.ToDb()), ("@id", id), ("@v", version)) == 1;

    /// <summary>A transient failure: the stored pair stays, the claim goes, and no refresh is tried before <paramref name="notBefore"/>.</summary>
    public static void BackOff(DbConnection c, DbTransaction t, string id, long version, int failures, DateTimeOffset notBefore, string error) =>
        Sql.Execute(c, t,
            """
            UPDATE oauth_connections SET refresh_claim_until = NULL, refresh_failures = @f, refresh_not_before = @nb, last_error = @e
            WHERE id = @id AND token_version = @v
            """,
            ("@f", failures), ("@nb", notBefore.ToDb()), ("@e", error), ("@id", id), ("@v", version));

    /// <summary>The provider refused the refresh token for good: no more refreshes until the user connects again.</summary>
    public static bool MarkReconnectRequired(DbConnection c, DbTransaction t, string id, long version, string error) =>
        Sql.Execute(c, t,
            """
            UPDATE oauth_connections SET status = 'reconnect_required', refresh_claim_until = NULL, last_error = @e
            WHERE id = @id AND token_version = @v AND status = 'active'
            """,
            ("@e", error), ("@id", id), ("@v", version)) == 1;

    public static void NoteError(DbConnection c, DbTransaction t, string id, string error) =>
        Sql.Execute(c, t, "UPDATE oauth_connections SET last_error = @e WHERE id = @id", ("@e", error), ("@id", id));

    public static bool Delete(DbConnection c, DbTransaction t, string id) =>
        Sql.Execute(c, t, "DELETE FROM oauth_connections WHERE id = @id", ("@id", id)) == 1;

    private static ConnectionRecord Read(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.NullableString(3), r.GetString(4), r.NullableString(5), r.NullableString(6), r.NullableString(7),
        r.NullableTime(8), TimeSpan.FromMilliseconds(r.NullableInt64(9) ?? 5000), r.NullableTime(10),
        r.IsDBNull(11) ? null : new SealedSecret(Convert.ToInt32(r.GetValue(11), CultureInfo.InvariantCulture), (byte[])r.GetValue(12), (byte[])r.GetValue(13)),
        Convert.ToInt64(r.GetValue(14), CultureInfo.InvariantCulture),
        r.IsDBNull(15) ? null : new SealedSecret(Convert.ToInt32(r.GetValue(15), CultureInfo.InvariantCulture), (byte[])r.GetValue(16), (byte[])r.GetValue(17)),
        r.NullableTime(18), Convert.ToInt64(r.GetValue(19), CultureInfo.InvariantCulture) != 0, r.NullableTime(20),
        Convert.ToInt32(r.GetValue(21), CultureInfo.InvariantCulture), r.NullableTime(22), r.NullableString(23), r.Time(24), r.NullableTime(25), r.NullableTime(26));
}
