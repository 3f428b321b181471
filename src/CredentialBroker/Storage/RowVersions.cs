using System.Data.Common;
using System.Globalization;

namespace Xares.Broker.Storage;

/// <summary>
/// A table whose rows carry row_version (migration 19): a trigger raises it whenever a column a
/// client sees or edits changes, which is what a resource's ETag is made from.
/// </summary>
internal sealed record VersionedTable(string Name)
{
    public static readonly VersionedTable Users = new("users");
    public static readonly VersionedTable ApiKeys = new("api_keys");
    public static readonly VersionedTable Credentials = new("credentials");
    public static readonly VersionedTable Workspaces = new("workspaces");
    public static readonly VersionedTable GitHubApps = new("github_apps");
    public static readonly VersionedTable OAuthProviders = new("oauth_providers");
    public static readonly VersionedTable OAuthConnections = new("oauth_connections");
    public static readonly VersionedTable Leases = new("leases");
}

internal static class RowVersions
{
    /// <returns>The row's version, or null when there is no such row.</returns>
    public static long? Find(DbConnection connection, DbTransaction? transaction, VersionedTable table, string id) =>
        Sql.Scalar(connection, transaction, $"SELECT row_version FROM {table.Name} WHERE id = @id", ("@id", id)) is { } version
            ? Convert.ToInt64(version, CultureInfo.InvariantCulture)
            : null;
}
