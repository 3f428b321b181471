using System.Data.Common;
using Xares.Broker.Api;
using Xares.Broker.Storage;

namespace Xares.Broker.Users;

/// <summary>Explicit SQL for the users table; writes run inside the caller's write unit.</summary>
internal static class UserStore
{
    private const string Columns = "id, name, email, created_at, oidc_subject";

    public static void Insert(DbConnection connection, DbTransaction transaction, UserRecord user) =>
        Sql.Execute(connection, transaction, $"INSERT INTO users ({Columns}) VALUES (@id, @name, @email, @created, @subject)",
            ("@id", user.Id), ("@name", user.Name), ("@email", user.Email), ("@created", user.CreatedAt.ToDb()), ("@subject", user.OidcSubject));

    /// <summary>Writes the fields a client edits (name, email, OIDC subject).</summary>
    public static bool Update(DbConnection connection, DbTransaction transaction, UserRecord user) =>
        Sql.Execute(connection, transaction, "UPDATE users SET name = @name, email = @email, oidc_subject = @subject WHERE id = @id",
            ("@id", user.Id), ("@name", user.Name), ("@email", user.Email), ("@subject", user.OidcSubject)) == 1;

    public static UserRecord? Find(DbConnection connection, DbTransaction? transaction, string id) =>
        Sql.Single(connection, transaction, $"SELECT {Columns} FROM users WHERE id = @id", Read, ("@id", id));

    /// <summary>The oldest user with this email (compared without case), or null.</summary>
    public static UserRecord? FindByEmail(DbConnection connection, DbTransaction? transaction, string email) =>
        Sql.Single(connection, transaction, $"SELECT {Columns} FROM users WHERE lower(email) = lower(@email) ORDER BY created_at, id LIMIT 1", Read, ("@email", email));

    /// <summary>The user with this OpenID Connect subject (compared exactly, as OpenID Connect says), or null.</summary>
    public static UserRecord? FindBySubject(DbConnection connection, DbTransaction? transaction, string subject) =>
        Sql.Single(connection, transaction, $"SELECT {Columns} FROM users WHERE oidc_subject = @subject", Read, ("@subject", subject));

    public static bool Exists(DbConnection connection, DbTransaction? transaction, string id) =>
        Sql.Scalar(connection, transaction, "SELECT 1 FROM users WHERE id = @id", ("@id", id)) is not null;

    /// <summary>Up to <paramref name="count"/> users (or only <paramref name="onlyId"/>) after a position in (created_at, id) order.</summary>
    public static List<UserRecord> ListAfter(DbConnection connection, string? onlyId, ListingPosition after, int count) =>
        Sql.Query(connection, null, $"SELECT {Columns} FROM users WHERE (CAST(@only AS TEXT) IS NULL OR id = @only) AND {ListingPosition.AfterSql}",
            Read, [("@only", onlyId), .. after.Parameters(count)]);

    /// <summary>Deletes the row; the schema cascades to the user's keys, workspaces, sessions and leases.</summary>
    public static bool Delete(DbConnection connection, DbTransaction transaction, string id) =>
        Sql.Execute(connection, transaction, "DELETE FROM users WHERE id = @id", ("@id", id)) == 1;

    private static UserRecord Read(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.NullableString(2), r.Time(3), r.NullableString(4));
}
