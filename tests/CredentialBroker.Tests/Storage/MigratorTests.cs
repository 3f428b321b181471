using Xares.Broker.Storage;

namespace Xares.Broker.Tests.Storage;

/// <summary>Downgrade refusal and migration checksums, on SQLite and PostgreSQL.</summary>
public abstract class MigratorTests(StorageBackend backend)
{
    [Fact]
    public async Task Migrate_SchemaNewerThanBinary_RefusesNamingBothVersions()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        using var database = new Database(db.ConnectionString);
        var newer = Migrator.LatestVersion + 1;
        Execute(database, "INSERT INTO schema_version (version, name, applied_at) VALUES (@v, 'from_the_future.sql', 0)", ("@v", newer));

        var refused = Assert.Throws<InvalidOperationException>(() => new Migrator(database).Migrate());

        Assert.Contains($"schema is at version {newer}, newer than this xares-broker knows (version {Migrator.LatestVersion})", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_Fresh_RecordsEveryMigrationWithItsChecksum()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        using var database = new Database(db.ConnectionString);

        var checksums = Checksums(database);

        // Numbers may have gaps while parallel branches each claim one (0016, 0017): the newest is recorded, every row has its checksum.
        Assert.Equal(Migrator.LatestVersion, checksums[^1].Version);
        Assert.All(checksums, c => Assert.Matches("^[0-9a-f]{64}$", c.Checksum));
        Assert.Equal(Migrator.LatestVersion, new Migrator(database).Migrate()); // and a second start agrees with them
    }

    [Fact]
    public async Task Migrate_DatabaseFromBeforeChecksums_BackfillsThem()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        using var database = new Database(db.ConnectionString);
        var expected = Checksums(database);
        Execute(database, "UPDATE schema_version SET checksum = NULL");

        new Migrator(database).Migrate();

        Assert.Equal(expected, Checksums(database));
    }

    [Fact]
    public async Task Migrate_AppliedMigrationEdited_RefusesNamingIt()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        using var database = new Database(db.ConnectionString);
        // What an edited 0003 looks like from the database's side: its recorded checksum no longer matches.
        Execute(database, "UPDATE schema_version SET checksum = @c WHERE version = 3", ("@c", new string('0', 64)));

        var refused = Assert.Throws<InvalidOperationException>(() => new Migrator(database).Migrate());

        Assert.Contains($"Migration {Migrator.Names(database.Kind)[2]} was applied with checksum {new string('0', 64)}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("edited", refused.Message, StringComparison.Ordinal);
    }

    private static List<(long Version, string Checksum)> Checksums(Database database)
    {
        using var connection = database.Open();
        return Sql.Query(connection, null, "SELECT version, checksum FROM schema_version ORDER BY version",
            r => (Convert.ToInt64(r.GetValue(0)), r.IsDBNull(1) ? "" : r.GetString(1)));
    }

    private static void Execute(Database database, string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = database.Open();
        Sql.Execute(connection, null, sql, parameters);
    }
}

public sealed class SqliteMigratorTests() : MigratorTests(new SqliteBackend());

public sealed class PostgresMigratorTests() : MigratorTests(new PostgresBackend());
