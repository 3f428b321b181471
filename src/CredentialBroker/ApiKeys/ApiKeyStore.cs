using System.Data.Common;
using Xares.Broker.Api;
using Xares.Broker.Security;
using Xares.Broker.Storage;

namespace Xares.Broker.ApiKeys;

internal sealed class ApiKeyStore(Database database, TimeProvider time)
{
    private const string Columns = "id, name, prefix, scopes, user_id, created_at, expires_at, revoked_at, last_used_at";

    /// <summary>Inserts a new key inside the caller's transaction and returns its record and the token (shown once).</summary>
    public static (ApiKeyRecord Record, string Token) Insert(DbConnection connection, DbTransaction transaction, string name,
        IReadOnlyList<string> scopes, string? userId, DateTimeOffset now, DateTimeOffset? expiresAt)
    {
        var token = OpaqueToken.Create(OpaqueToken.ApiKeyPrefix);
        var record = new ApiKeyRecord(OpaqueToken.NewId("key_"), name, token[..8], scopes, userId, now, expiresAt, null, null);
        Sql.Execute(connection, transaction,
            $"INSERT INTO api_keys ({Columns}, token_hash) VALUES (@id, @name, @prefix, @scopes, @user, @created, @expires, NULL, NULL, @hash)",
            ("@id", record.Id), ("@name", name), ("@prefix", record.Prefix), ("@scopes", string.Join(' ', scopes)), ("@user", userId),
            ("@created", now.ToDb()), ("@expires", expiresAt.ToDb()), ("@hash", OpaqueToken.Hash(token)));
        return (record, token);
    }

    /// <summary>The live key for a presented token, or null (unknown, revoked or expired).</summary>
    public async Task<ApiKeyRecord?> FindActiveAsync(string token)
    {
        var now = time.GetUtcNow();
        return await database.ReadAsync(c => Sql.Single(c, null,
            $"SELECT {Columns} FROM api_keys WHERE token_hash = @hash AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now)",
            Read, ("@hash", OpaqueToken.Hash(token)), ("@now", now.ToDb())));
    }

    public static ApiKeyRecord? Find(DbConnection connection, DbTransaction? transaction, string id) =>
        Sql.Single(connection, transaction, $"SELECT {Columns} FROM api_keys WHERE id = @id", Read, ("@id", id));

    /// <summary>Up to <paramref name="count"/> keys (bound to one user, or all) after a position in (created_at, id) order.</summary>
    public static List<ApiKeyRecord> ListAfter(DbConnection connection, string? userId, ListingPosition after, int count) =>
        Sql.Query(connection, null, $"SELECT {Columns} FROM api_keys WHERE (CAST(@user AS TEXT) IS NULL OR user_id = @user) AND {ListingPosition.AfterSql}",
            Read, [("@user", userId), .. after.Parameters(count)]);

    /// <summary>Brings a key's expiry forward (rotation grace); never extends it.</summary>
    public static void ExpireBy(DbConnection connection, DbTransaction transaction, string id, DateTimeOffset at) =>
        Sql.Execute(connection, transaction, "UPDATE api_keys SET expires_at = @at WHERE id = @id AND (expires_at IS NULL OR expires_at > @at)",
            ("@id", id), ("@at", at.ToDb()));

    /// <summary>Records use at most once a minute per key, so authentication stays a read.</summary>
    public static void TouchLastUsed(DbConnection connection, DbTransaction transaction, string id, DateTimeOffset now) =>
        Sql.Execute(connection, transaction, "UPDATE api_keys SET last_used_at = @now WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @stale)",
            ("@id", id), ("@now", now.ToDb()), ("@stale", (now - TimeSpan.FromMinutes(1)).ToDb()));

    public static bool Revoke(DbConnection connection, DbTransaction transaction, string id, DateTimeOffset now) =>
        Sql.Execute(connection, transaction, "UPDATE api_keys SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL", ("@id", id), ("@now", now.ToDb())) == 1;

    public static bool Any(DbConnection connection, DbTransaction? transaction = null) =>
        Convert.ToInt64(Sql.Scalar(connection, transaction, "SELECT COUNT(*) FROM api_keys") ?? 0L) > 0;

    private static ApiKeyRecord Read(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3).Split(' ', StringSplitOptions.RemoveEmptyEntries), r.NullableString(4),
        r.Time(5), r.NullableTime(6), r.NullableTime(7), r.NullableTime(8));
}
