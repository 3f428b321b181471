using Xares.Broker.Storage;
using Xares.Broker.Workspaces;

namespace Xares.Broker.Tests.Storage;

/// <summary>Containers keyed by (engine, id) on both backends, and rows bound before engines had names.</summary>
public abstract class ContainerEngineContractTests(StorageBackend backend)
{
    [Fact]
    public async Task BindAndFind_SameIdOnTwoEngines_TwoContainers()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        using var database = new Database(db.ConnectionString);
        using var connection = database.Open();
        Run(connection, "INSERT INTO users (id, name, created_at) VALUES ('usr_1', 'u', 0)");
        Run(connection, "INSERT INTO workspaces (id, user_id, name, created_at) VALUES ('ws_a', 'usr_1', 'a', 0), ('ws_b', 'usr_1', 'b', 0)");

        using (var transaction = connection.BeginTransaction())
        {
            Assert.True(WorkspaceStore.BindContainer(connection, transaction, "ws_a", "east", "c1"));
            Assert.True(WorkspaceStore.BindContainer(connection, transaction, "ws_b", "west", "c1"));
            Assert.False(WorkspaceStore.BindContainer(connection, transaction, "ws_a", "west", "c1"));
            Assert.True(WorkspaceStore.BindContainer(connection, transaction, "ws_a", "east", "c1")); // the same container again
            transaction.Commit();
        }

        Assert.Equal("ws_a", WorkspaceStore.FindByContainer(connection, null, "east", "c1")?.Id);
        Assert.Equal("ws_b", WorkspaceStore.FindByContainer(connection, null, "west", "c1")?.Id);
        Assert.Null(WorkspaceStore.FindByContainer(connection, null, "north", "c1"));
        Assert.Equal(["ws_a"], WorkspaceStore.ListBound(connection, "east").Select(w => w.Id));
        Assert.Equal("west", WorkspaceStore.Find(connection, null, "ws_b")!.ContainerEngine);
    }

    [Fact]
    public async Task Migrate_ContainerBoundBeforeEngines_BelongsToTheDefaultEngine()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        using var database = new Database(db.ConnectionString);
        using (var connection = database.Open())
        {
            // The database as 0018 left it, with a bound and an unbound workspace.
            Run(connection, "DROP INDEX ix_workspaces_container");
            Run(connection, "ALTER TABLE workspaces DROP COLUMN container_engine");
            Run(connection, "CREATE INDEX ix_workspaces_container ON workspaces(container_id)");
            Run(connection, "INSERT INTO users (id, name, created_at) VALUES ('usr_1', 'u', 0)");
            Run(connection, "INSERT INTO workspaces (id, user_id, name, created_at, container_id) VALUES ('ws_old', 'usr_1', 'w', 0, 'c0ffee'), ('ws_none', 'usr_1', 'n', 0, NULL)");
        }

        using (var connection = database.Open())
        {
            // 0019 itself, as the migrator runs it on such a database (later migrations are already applied here).
            Run(connection, EnginesMigration(database.Kind));
        }

        using var migrated = database.Open();
        Assert.Equal("ws_old", WorkspaceStore.FindByContainer(migrated, null, "default", "c0ffee")?.Id);
        Assert.Null(WorkspaceStore.Find(migrated, null, "ws_none")!.ContainerEngine);
    }

    private static void Run(System.Data.Common.DbConnection connection, string sql) => Sql.Execute(connection, null, sql);

    private static string EnginesMigration(DatabaseKind kind)
    {
        var name = $"migrations/{(kind == DatabaseKind.Postgres ? "postgres" : "sqlite")}/0019_docker_engines.sql";
        using var stream = typeof(Migrator).Assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"{name} is not embedded");
        return new StreamReader(stream).ReadToEnd();
    }
}

public sealed class SqliteContainerEngineContractTests() : ContainerEngineContractTests(new SqliteBackend());

public sealed class PostgresContainerEngineContractTests() : ContainerEngineContractTests(new PostgresBackend());
