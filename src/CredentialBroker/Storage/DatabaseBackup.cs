namespace Xares.Broker.Storage;

/// <summary>
/// `xares-broker backup --to FILE`: a consistent copy of a live SQLite database. VACUUM INTO reads
/// one snapshot (writers carry on meanwhile) and writes a compact, standalone database file, so
/// the backup holds every committed change up to one point and nothing half-written. PostgreSQL
/// is backed up with its own tools (pg_dump, or base backups with WAL archiving), see the README.
/// </summary>
internal static class DatabaseBackup
{
    public static void ToFile(Database database, string path)
    {
        if (database.Kind == DatabaseKind.Postgres)
        {
            throw new InvalidOperationException(
                "backup --to writes SQLite files; back up PostgreSQL with pg_dump (e.g. pg_dump --format=custom --file=xares.dump DBNAME), see the README.");
        }
        var target = Path.GetFullPath(path);
        if (File.Exists(target))
        {
            throw new InvalidOperationException($"{target} already exists; a backup never overwrites a file.");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using var connection = database.Open();
        Sql.Execute(connection, null, "VACUUM INTO @path", ("@path", target));
        // The copy holds credentials (encrypted) and the audit trail: readable by the owner only.
        File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
