using System.Data.Common;
using System.Globalization;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Minted;

internal static class MintedTokenStore
{
    private const string Columns =
        "id, source_id, workspace_id, user_id, scope_key, installation_id, git_url, owner, repositories, access, kek_version, wrapped_dek, ciphertext, "
        + "created_at, expires_at, revoked_at";

    public static void Insert(DbConnection connection, DbTransaction transaction, MintedToken token) =>
        Sql.Write(connection, transaction,
            $"""
            INSERT INTO minted_tokens ({Columns})
            VALUES (@id, @source, @ws, @user, @scope, @inst, @git, @owner, @repos, @access, @kek, @dek, @ct, @created, @expires, @revoked)
            """,
            ("@id", token.Id), ("@source", token.SourceId), ("@ws", token.WorkspaceId), ("@user", token.UserId), ("@scope", token.ScopeKey),
            ("@inst", token.InstallationId), ("@git", token.GitUrl), ("@owner", token.Owner), ("@repos", MintedToken.SerializeRepositories(token.Repositories)),
            ("@access", token.Access), ("@kek", token.Sealed.KekVersion), ("@dek", token.Sealed.WrappedDataKey), ("@ct", token.Sealed.Ciphertext),
            ("@created", token.CreatedAt.ToDb()), ("@expires", token.ExpiresAt.ToDb()), ("@revoked", token.RevokedAt.ToDb()));

    public static MintedToken? Find(DbConnection connection, DbTransaction? transaction, string id) =>
        Sql.Single(connection, transaction, $"SELECT {Columns} FROM minted_tokens WHERE id = @id", Read, ("@id", id));

    /// <summary>A workspace's unrevoked tokens of one source that live past <paramref name="usableUntil"/>, longest-lived first.</summary>
    public static List<MintedToken> UsableForWorkspace(DbConnection connection, string workspaceId, string sourceId, DateTimeOffset usableUntil) =>
        Sql.Query(connection, null,
            $"""
            SELECT {Columns} FROM minted_tokens
            WHERE workspace_id = @ws AND source_id = @source AND revoked_at IS NULL AND expires_at > @until
            ORDER BY expires_at DESC
            """,
            Read, ("@ws", workspaceId), ("@source", sourceId), ("@until", usableUntil.ToDb()));

    /// <summary>A workspace's unrevoked, unexpired tokens.</summary>
    public static List<MintedToken> LiveForWorkspace(DbConnection connection, DbTransaction transaction, string workspaceId, DateTimeOffset now) =>
        Sql.Query(connection, transaction, $"SELECT {Columns} FROM minted_tokens WHERE workspace_id = @ws AND revoked_at IS NULL AND expires_at > @now ORDER BY id",
            Read, ("@ws", workspaceId), ("@now", now.ToDb()));

    /// <summary>Ids of the unrevoked tokens matching a condition on minted_tokens (a fixed SQL fragment, never user input).</summary>
    public static List<(string Id, string UserId)> Unrevoked(DbConnection connection, DbTransaction transaction, string condition, params (string, object?)[] parameters) =>
        Sql.Query(connection, transaction, $"SELECT id, user_id FROM minted_tokens WHERE revoked_at IS NULL AND {condition} ORDER BY id",
            r => (r.GetString(0), r.GetString(1)), parameters);

    /// <summary>Deletes up to <paramref name="limit"/> tokens that expired before <paramref name="cutoff"/> and wait for no upstream revocation; returns how many.</summary>
    public static int DeleteExpiredBefore(DbConnection connection, DbTransaction transaction, DateTimeOffset cutoff, int limit) =>
        Sql.Execute(connection, transaction,
            """
            DELETE FROM minted_tokens WHERE id IN (
                SELECT id FROM minted_tokens WHERE expires_at < @cutoff AND id NOT IN (SELECT token_id FROM upstream_revocations) ORDER BY expires_at LIMIT @limit)
            """,
            ("@cutoff", cutoff.ToDb()), ("@limit", limit));

    /// <summary>Marks the token revoked; false when it already was.</summary>
    public static bool MarkRevoked(DbConnection connection, DbTransaction transaction, string id, DateTimeOffset now) =>
        Sql.Execute(connection, transaction, "UPDATE minted_tokens SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL", ("@id", id), ("@now", now.ToDb())) == 1;

    private static MintedToken Read(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), Convert.ToInt64(r.GetValue(5), CultureInfo.InvariantCulture),
        r.GetString(6), r.GetString(7), MintedToken.DeserializeRepositories(r.GetString(8)), r.GetString(9),
        new SealedSecret(Convert.ToInt32(r.GetValue(10), CultureInfo.InvariantCulture), (byte[])r.GetValue(11), (byte[])r.GetValue(12)),
        r.Time(13), r.Time(14), r.NullableTime(15));
}
