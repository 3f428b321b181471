namespace Xares.Broker.Storage;

/// <summary>
/// The data directory (0700) and the SQLite database file (0600), created with those modes
/// whatever the umask. SQLite gives its -wal and -shm files the main file's mode, so creating
/// xares.db before SQLite opens it is what keeps them private too.
/// </summary>
internal static class DatabaseFiles
{
    public const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Creates <paramref name="path"/> 0700 when missing; an existing one is left as the operator set it.</summary>
    /// <returns>The mode of an existing directory that group or others can use (worth a warning); otherwise null.</returns>
    public static UnixFileMode? CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return null;
        }
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path, PrivateDirectory);
            return null;
        }
        var mode = File.GetUnixFileMode(path);
        return (mode & GroupOrOther) != 0 ? mode : null;
    }

    /// <summary>Creates an absent SQLite database file 0600 (and its directory 0700), and takes group and other access off an existing one and its -wal and -shm.</summary>
    public static void PrepareSqlite(string dataSource)
    {
        if (OperatingSystem.IsWindows() || dataSource.Length == 0 || dataSource == ":memory:" || dataSource.StartsWith("file:", StringComparison.Ordinal))
        {
            return;
        }
        var path = Path.GetFullPath(dataSource);
        CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            using var created = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = PrivateFile });
        }
        catch (IOException) when (File.Exists(path))
        {
            // Already there (created earlier, or by a broker starting alongside).
        }
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            if (File.Exists(file) && (File.GetUnixFileMode(file) & GroupOrOther) != 0)
            {
                File.SetUnixFileMode(file, File.GetUnixFileMode(file) & ~GroupOrOther);
            }
        }
    }
}
