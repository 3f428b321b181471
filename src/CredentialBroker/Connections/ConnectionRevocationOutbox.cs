using System.Data.Common;
using System.Globalization;
using Xares.Broker.Security;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Connections;

/// <summary>A disconnected token waiting for its RFC 7009 revocation; <see cref="Sealed"/> is bound to this row.</summary>
internal sealed record QueuedRevocation(string Id, string ProviderId, string ConnectionId, string UserId, string TokenType, SealedSecret Sealed, int Attempts,
    DateTimeOffset NextAttemptAt)
{
    public SecretContext Context => ContextFor(Id, UserId, ProviderId, ConnectionId, TokenType);

    public static SecretContext ContextFor(string id, string userId, string providerId, string connectionId, string tokenType) =>
        new(id, userId, 1, "oauth-revocation", providerId, connectionId, tokenType);
}

/// <summary>SQL for oauth_revocations, written in the transaction that ends the connection, so a revocation is never lost.</summary>
internal static class ConnectionRevocationOutbox
{
    private const string Columns = "id, provider_id, connection_id, user_id, token_type, kek_version, wrapped_dek, ciphertext, attempts, next_attempt_at";

    public static void Queue(DbConnection c, DbTransaction t, Keyring keyring, string providerId, ConnectionRecord connection, string tokenType, string token,
        DateTimeOffset now, int order)
    {
        var id = OpaqueToken.NewId("orev_");
        var sealedToken = TokenPair.SealText(keyring, token, QueuedRevocation.ContextFor(id, connection.UserId, providerId, connection.Id, tokenType));
        Sql.Write(c, t,
            $"INSERT INTO oauth_revocations ({Columns}, last_error, created_at) VALUES (@id, @p, @conn, @user, @type, @kek, @dek, @ct, 0, @next, NULL, @now)",
            ("@id", id), ("@p", providerId), ("@conn", connection.Id), ("@user", connection.UserId), ("@type", tokenType),
            ("@kek", sealedToken.KekVersion), ("@dek", sealedToken.WrappedDataKey), ("@ct", sealedToken.Ciphertext),
            // The refresh token's row is due first.
            ("@next", now.ToDb() + order), ("@now", now.ToDb()));
    }

    public static List<QueuedRevocation> Due(DbConnection c, DateTimeOffset now, int limit) =>
        Sql.Query(c, null, $"SELECT {Columns} FROM oauth_revocations WHERE next_attempt_at <= @now ORDER BY next_attempt_at LIMIT @n", Read,
            ("@now", now.ToDb()), ("@n", limit));

    public static QueuedRevocation? Find(DbConnection c, DbTransaction? t, string id) =>
        Sql.Single(c, t, $"SELECT {Columns} FROM oauth_revocations WHERE id = @id", Read, ("@id", id));

    public static bool Claim(DbConnection c, DbTransaction t, string id, DateTimeOffset expected, DateTimeOffset until) =>
        Sql.Execute(c, t, "UPDATE oauth_revocations SET next_attempt_at = @claim WHERE id = @id AND next_attempt_at = @old",
            ("@claim", until.ToDb()), ("@id", id), ("@old", expected.ToDb())) == 1;

    public static void Retry(DbConnection c, DbTransaction t, string id, int attempts, DateTimeOffset next, string error) =>
        Sql.Execute(c, t, "UPDATE oauth_revocations SET attempts = @a, next_attempt_at = @next, last_error = @e WHERE id = @id",
            ("@a", attempts), ("@next", next.ToDb()), ("@e", error), ("@id", id));

    public static void Delete(DbConnection c, DbTransaction t, string id) =>
        Sql.Execute(c, t, "DELETE FROM oauth_revocations WHERE id = @id", ("@id", id));

    private static QueuedRevocation Read(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
        new SealedSecret(Convert.ToInt32(r.GetValue(5), CultureInfo.InvariantCulture), (byte[])r.GetValue(6), (byte[])r.GetValue(7)),
        Convert.ToInt32(r.GetValue(8), CultureInfo.InvariantCulture), r.Time(9));
}
