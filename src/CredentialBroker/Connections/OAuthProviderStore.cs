using System.Data.Common;
using System.Globalization;
using Xares.Broker.Api;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Connections;

internal static class OAuthProviderStore
{
    private const string Columns =
        "id, name, kind, authorize_url, token_url, device_authorization_url, revocation_url, userinfo_url, client_id, client_auth, scopes, "
        + "git_url, git_scheme, git_host, git_port, git_username, kek_version, wrapped_dek, ciphertext, secret_hint, created_at";

    public static void Insert(DbConnection c, DbTransaction t, OAuthProviderRecord p) =>
        Sql.Write(c, t,
            $"""
            INSERT INTO oauth_providers ({Columns})
            VALUES (@id, @name, @kind, @auth, @token, @device, @revoke, @userinfo, @client, @clientauth, @scopes, @git, @scheme, @host, @port, @user, @kek, @dek, @ct, @hint, @created)
            """,
            ("@id", p.Id), ("@name", p.Name), ("@kind", p.Kind), ("@auth", p.AuthorizeUrl), ("@token", p.TokenUrl), ("@device", p.DeviceAuthorizationUrl),
            ("@revoke", p.RevocationUrl), ("@userinfo", p.UserInfoUrl), ("@client", p.ClientId), ("@clientauth", p.ClientAuth), ("@scopes", p.Scopes),
            ("@git", p.GitUrl), ("@scheme", p.GitScheme), ("@host", p.GitHost), ("@port", p.GitPort), ("@user", p.GitUsername),
            ("@kek", p.SealedSecret.KekVersion), ("@dek", p.SealedSecret.WrappedDataKey), ("@ct", p.SealedSecret.Ciphertext), ("@hint", p.SecretHint),
            ("@created", p.CreatedAt.ToDb()));

    public static OAuthProviderRecord? Find(DbConnection c, DbTransaction? t, string id) =>
        Sql.Single(c, t, $"SELECT {Columns} FROM oauth_providers WHERE id = @id", Read, ("@id", id));

    /// <summary>By id (oauthp_…) or by name, as `xares-sidecar connect` names it.</summary>
    public static OAuthProviderRecord? FindByIdOrName(DbConnection c, DbTransaction? t, string idOrName) =>
        Sql.Single(c, t, $"SELECT {Columns} FROM oauth_providers WHERE id = @v OR name = @v", Read, ("@v", idOrName));

    public static OAuthProviderRecord? FindByName(DbConnection c, DbTransaction? t, string name) =>
        Sql.Single(c, t, $"SELECT {Columns} FROM oauth_providers WHERE name = @name", Read, ("@name", name));

    public static OAuthProviderRecord? FindByGitOrigin(DbConnection c, DbTransaction? t, string scheme, string host, int port) =>
        Sql.Single(c, t, $"SELECT {Columns} FROM oauth_providers WHERE git_scheme = @s AND git_host = @h AND git_port = @p", Read,
            ("@s", scheme), ("@h", host), ("@p", port));

    public static List<OAuthProviderRecord> ListAfter(DbConnection c, ListingPosition after, int count) =>
        Sql.Query(c, null, $"SELECT {Columns} FROM oauth_providers WHERE {ListingPosition.AfterSql}", Read, after.Parameters(count));

    public static bool Delete(DbConnection c, DbTransaction t, string id) =>
        Sql.Execute(c, t, "DELETE FROM oauth_providers WHERE id = @id", ("@id", id)) == 1;

    /// <summary>The git origins of the providers a user has an active connection with (for `xares-sidecar install`).</summary>
    public static List<(string GitUrl, string Host, int Port)> ConnectedGitOrigins(DbConnection c, string userId) =>
        Sql.Query(c, null,
            """
            SELECT DISTINCT p.git_url, p.git_host, p.git_port FROM oauth_providers p
            JOIN oauth_connections k ON k.provider_id = p.id
            WHERE k.user_id = @user AND k.status = 'active'
            ORDER BY p.git_url
            """,
            r => (r.GetString(0), r.GetString(1), Convert.ToInt32(r.GetValue(2), CultureInfo.InvariantCulture)), ("@user", userId));

    private static OAuthProviderRecord Read(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.NullableString(3), r.GetString(4), r.NullableString(5), r.NullableString(6), r.NullableString(7),
        r.GetString(8), r.GetString(9), r.GetString(10), r.GetString(11), r.GetString(12), r.GetString(13),
        Convert.ToInt32(r.GetValue(14), CultureInfo.InvariantCulture), r.GetString(15),
        new SealedSecret(Convert.ToInt32(r.GetValue(16), CultureInfo.InvariantCulture), (byte[])r.GetValue(17), (byte[])r.GetValue(18)),
        r.GetString(19), r.Time(20));
}
