using System.Data.Common;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Xares.Broker.Storage.Postgres;

namespace Xares.Broker.Storage;

/// <summary>
/// Applies the embedded migrations in order, each in its own transaction, and records every
/// applied version in schema_version. SQLite runs Storage/Migrations/NNNN_name.sql; PostgreSQL
/// runs the twin of each in Storage/Migrations/Postgres/ (same number and name). On PostgreSQL
/// an advisory lock makes replicas that start together migrate exactly once: the others wait,
/// then find nothing left to do. From migration 14 each row also holds the migration's checksum:
/// a start refuses a schema newer than this binary (a downgrade) and an applied migration whose
/// embedded text no longer matches (an edited migration).
/// </summary>
internal sealed class Migrator(Database database)
{
    /// <summary>The migration that adds schema_version.checksum; rows before it are backfilled once it has run.</summary>
    private const int ChecksumsFrom = 14;

    /// <exception cref="InvalidOperationException">The schema is newer than this binary, or an applied migration was edited.</exception>
    public int Migrate()
    {
        if (database.Kind == DatabaseKind.Sqlite)
        {
            DatabaseFiles.PrepareSqlite(database.DataSource);
        }
        using var connection = database.Open();
        if (database.Kind == DatabaseKind.Postgres)
        {
            PostgresLocks.LockMigrations(connection);
            try
            {
                return Apply(connection);
            }
            finally
            {
                PostgresLocks.UnlockMigrations(connection);
            }
        }
        Database.Execute(connection, "PRAGMA journal_mode = WAL;");
        return Apply(connection);
    }

    private int Apply(DbConnection connection)
    {
        Database.Execute(connection,
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);");
        var current = Convert.ToInt32(Sql.Scalar(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_version") ?? 0, CultureInfo.InvariantCulture);
        var migrations = LoadMigrations(database.Kind);
        var latest = migrations.Max(m => m.Version);
        if (current > latest)
        {
            throw new InvalidOperationException(
                $"The database schema is at version {current}, newer than this xares-broker knows (version {latest}): a newer broker migrated it. " +
                "Downgrading is not supported: run the newer broker, or restore the backup taken before the upgrade.");
        }
        if (current >= ChecksumsFrom)
        {
            Verify(connection, migrations);
        }
        foreach (var migration in migrations.Where(m => m.Version > current))
        {
            using var transaction = connection.BeginTransaction();
            Database.Execute(connection, migration.Sql, transaction);
            Sql.Execute(connection, transaction, "INSERT INTO schema_version (version, name, applied_at) VALUES (@v, @n, @t)",
                ("@v", migration.Version), ("@n", migration.Name), ("@t", DateTimeOffset.UtcNow.ToDb()));
            if (migration.Version >= ChecksumsFrom)
            {
                Backfill(connection, transaction, migrations);
            }
            transaction.Commit();
            current = migration.Version;
        }
        return current;
    }

    // Rows without a checksum (applied before migration 14, or by the step that just ran) take the embedded one.
    private static void Backfill(DbConnection connection, DbTransaction transaction, IReadOnlyList<Migration> migrations)
    {
        var missing = Sql.Query(connection, transaction, "SELECT version FROM schema_version WHERE checksum IS NULL",
            r => Convert.ToInt32(r.GetValue(0), CultureInfo.InvariantCulture));
        foreach (var migration in migrations.Where(m => missing.Contains(m.Version)))
        {
            Sql.Execute(connection, transaction, "UPDATE schema_version SET checksum = @c WHERE version = @v", ("@c", migration.Checksum), ("@v", migration.Version));
        }
    }

    private static void Verify(DbConnection connection, IReadOnlyList<Migration> migrations)
    {
        var applied = Sql.Query(connection, null, "SELECT version, checksum FROM schema_version WHERE checksum IS NOT NULL",
            r => (Version: Convert.ToInt32(r.GetValue(0), CultureInfo.InvariantCulture), Checksum: r.GetString(1)));
        foreach (var (version, checksum) in applied)
        {
            var migration = migrations.FirstOrDefault(m => m.Version == version);
            if (migration is not null && !string.Equals(migration.Checksum, checksum, StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    $"Migration {migration.Name} was applied with checksum {checksum}, but this xares-broker's copy has {migration.Checksum}: " +
                    "a migration was edited after it ran. Use a released broker build; never edit an applied migration, add a new one.");
            }
        }
        using var transaction = connection.BeginTransaction();
        Backfill(connection, transaction, migrations);
        transaction.Commit();
    }

    public static int LatestVersion => LoadMigrations(DatabaseKind.Sqlite).Max(m => m.Version);

    /// <summary>The migration file names (NNNN_name.sql) embedded for a dialect, in order.</summary>
    public static IReadOnlyList<string> Names(DatabaseKind kind) => LoadMigrations(kind).Select(m => m.Name).ToList();

    private static List<Migration> LoadMigrations(DatabaseKind kind)
    {
        var assembly = Assembly.GetExecutingAssembly();
        var prefix = kind == DatabaseKind.Postgres ? "migrations/postgres/" : "migrations/sqlite/";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[prefix.Length..];
                var version = int.Parse(file[..file.IndexOf('_', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return new Migration(version, file, reader.ReadToEnd());
            })
            .OrderBy(m => m.Version)
            .ToList();
    }

    private sealed record Migration(int Version, string Name, string Sql)
    {
        // Line ends normalised, so a checkout with CRLF does not look edited.
        public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
    }
}
