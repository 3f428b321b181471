using System.Data.Common;
using System.Globalization;
using Xares.Broker.Api;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Minted;

internal static class GitHubAppStore
{
    private const string Columns =
        "id, name, app_id, api_url, git_url, git_scheme, git_host, git_port, installations, kek_version, wrapped_dek, ciphertext, key_hint, created_at";

    public static void Insert(DbConnection connection, DbTransaction transaction, GitHubAppRecord app) =>
        Sql.Write(connection, transaction,
            $"INSERT INTO github_apps ({Columns}) VALUES (@id, @name, @app, @api, @git, @scheme, @host, @port, @inst, @kek, @dek, @ct, @hint, @created)",
            ("@id", app.Id), ("@name", app.Name), ("@app", app.AppId), ("@api", app.ApiUrl), ("@git", app.GitUrl), ("@scheme", app.GitScheme),
            ("@host", app.GitHost), ("@port", app.GitPort), ("@inst", GitHubAppRecord.SerializeInstallations(app.Installations)),
            ("@kek", app.SealedKey.KekVersion), ("@dek", app.SealedKey.WrappedDataKey), ("@ct", app.SealedKey.Ciphertext), ("@hint", app.KeyHint),
            ("@created", app.CreatedAt.ToDb()));

    public static GitHubAppRecord? Find(DbConnection connection, DbTransaction? transaction, string id) =>
        Sql.Single(connection, transaction, $"SELECT {Columns} FROM github_apps WHERE id = @id", Read, ("@id", id));

    /// <summary>The app serving git at this scheme, host and port (at most one: the index is unique).</summary>
    public static GitHubAppRecord? FindByGitOrigin(DbConnection connection, DbTransaction? transaction, string scheme, string host, int port) =>
        Sql.Single(connection, transaction, $"SELECT {Columns} FROM github_apps WHERE git_scheme = @s AND git_host = @h AND git_port = @p", Read,
            ("@s", scheme), ("@h", host), ("@p", port));

    public static List<GitHubAppRecord> ListAfter(DbConnection connection, ListingPosition after, int count) =>
        Sql.Query(connection, null, $"SELECT {Columns} FROM github_apps WHERE {ListingPosition.AfterSql}", Read, after.Parameters(count));

    /// <summary>Every app's git origin (what `xares-sidecar install` configures for repository-scoped workspaces).</summary>
    public static List<(string GitUrl, string Scheme, string Host, int Port)> GitOrigins(DbConnection connection) =>
        Sql.Query(connection, null, "SELECT git_url, git_scheme, git_host, git_port FROM github_apps ORDER BY git_url",
            r => (r.GetString(0), r.GetString(1), r.GetString(2), Convert.ToInt32(r.GetValue(3), CultureInfo.InvariantCulture)));

    public static bool Delete(DbConnection connection, DbTransaction transaction, string id) =>
        Sql.Execute(connection, transaction, "DELETE FROM github_apps WHERE id = @id", ("@id", id)) == 1;

    private static GitHubAppRecord Read(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
        Convert.ToInt32(r.GetValue(7), CultureInfo.InvariantCulture),
        GitHubAppRecord.DeserializeInstallations(r.NullableString(8)),
        new SealedSecret(Convert.ToInt32(r.GetValue(9), CultureInfo.InvariantCulture), (byte[])r.GetValue(10), (byte[])r.GetValue(11)),
        r.GetString(12), r.Time(13));
}
