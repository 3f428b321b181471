using System.Reflection;
using System.Data.Common;

namespace Xares.Broker.Storage;

/// <summary>
/// Applies the embedded migrations (Storage/Migrations/NNNN_name.sql) in order, each in its own
/// transaction, and records every applied version in schema_version.
/// </summary>
internal sealed class Migrator(Database database)
{
    public int Migrate()
    {
        using var connection = database.Open();
        Database.Execute(connection, "PRAGMA journal_mode = WAL;");
        Database.Execute(connection,
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);");

        var current = Convert.ToInt32(Sql.Scalar(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_version") ?? 0);
        foreach (var migration in LoadMigrations().Where(m => m.Version > current))
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

    public static int LatestVersion => LoadMigrations().Max(m => m.Version);

    private static IEnumerable<Migration> LoadMigrations()
    {
        var assembly = Assembly.GetExecutingAssembly();
        const string marker = ".Storage.Migrations.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.Contains(marker, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[(n.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..];
                var version = int.Parse(file[..file.IndexOf('_', StringComparison.Ordinal)].TrimStart('_'));
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return new Migration(version, file, reader.ReadToEnd());
            })
            .OrderBy(m => m.Version);
    }

    private sealed record Migration(int Version, string Name, string Sql);
}
