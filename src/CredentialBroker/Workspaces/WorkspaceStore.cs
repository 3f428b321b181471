using System.Text.Json;
using System.Data.Common;
using Xares.Broker.Api;
using Xares.Broker.Storage;

namespace Xares.Broker.Workspaces;

internal static class WorkspaceStore
{
    private const string Columns = "id, user_id, name, allowed_hosts, created_at, revoked_at, container_id";
    private const string SelectColumns = Columns + ", container_state, repositories, container_engine";

    public static void Insert(DbConnection connection, DbTransaction transaction, WorkspaceRecord workspace) =>
        Sql.Execute(connection, transaction,
            $"INSERT INTO workspaces ({Columns}, repositories) VALUES (@id, @user, @name, @hosts, @created, NULL, NULL, @repos)",
            ("@id", workspace.Id), ("@user", workspace.UserId), ("@name", workspace.Name),
            ("@repos", workspace.Repositories is null ? null : RepositoryGrant.Serialize(workspace.Repositories)),
            ("@hosts", workspace.AllowedHosts is null ? null : JsonSerializer.Serialize(workspace.AllowedHosts)), ("@created", workspace.CreatedAt.ToDb()));

    public static WorkspaceRecord? Find(DbConnection connection, DbTransaction? transaction, string id) =>
        Sql.Single(connection, transaction, $"SELECT {SelectColumns} FROM workspaces WHERE id = @id", Read, ("@id", id));

    /// <summary>Up to <paramref name="count"/> workspaces (of one user, or everyone's) after a position in (created_at, id) order.</summary>
    public static List<WorkspaceRecord> ListAfter(DbConnection connection, string? userId, ListingPosition after, int count) =>
        Sql.Query(connection, null,
            $"SELECT {SelectColumns} FROM workspaces WHERE (CAST(@user AS TEXT) IS NULL OR user_id = @user) AND {ListingPosition.AfterSql}",
            Read, [("@user", userId), .. after.Parameters(count)]);

    /// <summary>Sets the name and policy of an unrevoked workspace; false when it is revoked or doesn't exist.</summary>
    public static bool UpdatePolicy(DbConnection connection, DbTransaction transaction, string id, string name, IReadOnlyList<string>? allowedHosts) =>
        Sql.Execute(connection, transaction, "UPDATE workspaces SET name = @name, allowed_hosts = @hosts WHERE id = @id AND revoked_at IS NULL",
            ("@id", id), ("@name", name), ("@hosts", allowedHosts is null ? null : JsonSerializer.Serialize(allowedHosts))) == 1;

    /// <summary>Sets the repositories of an unrevoked workspace; false when it is revoked or doesn't exist.</summary>
    public static bool UpdateRepositories(DbConnection connection, DbTransaction transaction, string id, IReadOnlyList<RepositoryGrant>? repositories) =>
        Sql.Execute(connection, transaction, "UPDATE workspaces SET repositories = @repos WHERE id = @id AND revoked_at IS NULL",
            ("@id", id), ("@repos", repositories is null ? null : RepositoryGrant.Serialize(repositories))) == 1;

    /// <summary>The stored repositories JSON of a workspace (null: none named, or no such workspace).</summary>
    public static string? RepositoriesOf(DbConnection connection, string id) =>
        Sql.Scalar(connection, null, "SELECT repositories FROM workspaces WHERE id = @id", ("@id", id)) as string;

    /// <summary>Marks the workspace revoked; false when it was already revoked or doesn't exist.</summary>
    public static bool Revoke(DbConnection connection, DbTransaction transaction, string id, DateTimeOffset now) =>
        Sql.Execute(connection, transaction, "UPDATE workspaces SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL",
            ("@id", id), ("@now", now.ToDb())) == 1;

    /// <summary>The unrevoked workspace a container (its engine and its id there) is bound to, if any.</summary>
    public static WorkspaceRecord? FindByContainer(DbConnection connection, DbTransaction? transaction, string engine, string containerId) =>
        Sql.Single(connection, transaction,
            $"SELECT {SelectColumns} FROM workspaces WHERE container_engine = @e AND container_id = @c AND revoked_at IS NULL", Read, ("@e", engine), ("@c", containerId));

    /// <summary>Unrevoked workspaces bound to a container on <paramref name="engine"/> (what that engine's watcher reconciles).</summary>
    public static List<WorkspaceRecord> ListBound(DbConnection connection, string engine) =>
        Sql.Query(connection, null, $"SELECT {SelectColumns} FROM workspaces WHERE container_engine = @e AND container_id IS NOT NULL AND revoked_at IS NULL",
            Read, ("@e", engine));

    /// <summary>Binds the first container that names the workspace; false when another one (on any engine) is bound already.</summary>
    public static bool BindContainer(DbConnection connection, DbTransaction transaction, string id, string engine, string containerId) =>
        Sql.Execute(connection, transaction,
            """
            UPDATE workspaces SET container_engine = @e, container_id = @c
            WHERE id = @id AND revoked_at IS NULL AND (container_id IS NULL OR (container_engine = @e AND container_id = @c))
            """,
            ("@id", id), ("@e", engine), ("@c", containerId)) == 1;

    public static void SetContainerState(DbConnection connection, DbTransaction transaction, string id, string state) =>
        Sql.Execute(connection, transaction, "UPDATE workspaces SET container_state = @s WHERE id = @id", ("@id", id), ("@s", state));

    private static WorkspaceRecord Read(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2),
        r.IsDBNull(3) ? null : JsonSerializer.Deserialize<string[]>(r.GetString(3)),
        r.Time(4), r.NullableTime(5), r.NullableString(6))
    {
        ContainerState = r.NullableString(7),
        Repositories = RepositoryGrant.Deserialize(r.NullableString(8)),
        ContainerEngine = r.NullableString(9),
    };
}
