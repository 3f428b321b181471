using System.Reflection;
using System.Data.Common;
using Xares.Broker.Storage.Postgres;

namespace Xares.Broker.Storage;

/// <summary>
/// Applies the embedded migrations in order, each in its own transaction, and records every
/// applied version in schema_version. SQLite runs Storage/Migrations/NNNN_name.sql; PostgreSQL
/// runs the twin of each in Storage/Migrations/Postgres/ (same number and name). On PostgreSQL
/// an advisory lock makes replicas that start together migrate exactly once: the others wait,
/// then find nothing left to do.
/// </summary>
internal sealed class Migrator(Database database)
{
    public int Migrate()
    {
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
        var current = Convert.ToInt32(Sql.Scalar(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_version") ?? 0);
        foreach (var migration in LoadMigrations(database.Kind).Where(m => m.Version > current))
        {
            using var transaction = connection.BeginTransaction();
            Database.Execute(connection, migration.Sql, transaction);
            Sql.Execute(connection, transaction, "INSERT INTO schema_version (version, name, applied_at) VALUES (@v, @n, @t)",
                ("@v", migration.Version), ("@n", migration.Name), ("@t", DateTimeOffset.UtcNow.ToDb()));
            transaction.Commit();
            current = migration.Version;
        }
        return current;
    }

    public static int LatestVersion => LoadMigrations(DatabaseKind.Sqlite).Max(m => m.Version);

    /// <summary>The migration file names (NNNN_name.sql) embedded for a dialect, in order.</summary>
    public static IReadOnlyList<string> Names(DatabaseKind kind) => LoadMigrations(kind).Select(m => m.Name).ToList();

    private static IEnumerable<Migration> LoadMigrations(DatabaseKind kind)
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

    private sealed record Migration(int Version, string Name, string Sql);
}
