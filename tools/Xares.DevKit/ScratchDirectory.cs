namespace Xares.DevKit;

/// <summary>
/// A private (0700) temporary folder for one fixture, test, demo or benchmark run: homes, work
/// trees, data dirs and every process log live here, so <see cref="SecretScanner"/> can search all
/// of it. Short paths keep Unix socket paths under the 108-byte limit. Deleted on dispose unless
/// <see cref="Keep"/> is set (XARES_E2E_KEEP=1 sets it, to keep a test's folder for inspection).
/// </summary>
internal sealed class ScratchDirectory : IDisposable
{
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private ScratchDirectory(string path) => Path = path;

    public string Path { get; }

    /// <summary>Where process logs go; scanned with everything else.</summary>
    public string Logs => Sub("logs");

    /// <summary>Leave the folder in place on dispose.</summary>
    public bool Keep { get; set; } = Environment.GetEnvironmentVariable("XARES_E2E_KEEP") == "1";

    /// <summary>Creates <c>/tmp/&lt;prefix&gt;&lt;10 hex digits&gt;</c> with mode 0700.</summary>
    public static ScratchDirectory Create(string prefix = "xe-")
    {
        // /tmp rather than a possibly long TMPDIR: socket paths must stay short.
        var parent = Directory.Exists("/tmp") ? "/tmp" : System.IO.Path.GetTempPath();
        var path = System.IO.Path.Combine(parent, prefix + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..10]);
        Directory.CreateDirectory(path, PrivateDirectory);
        return new ScratchDirectory(path);
    }

    /// <summary>A private subfolder (created if missing).</summary>
    public string Sub(string relative)
    {
        var path = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(path, PrivateDirectory);
        return path;
    }

    public void Dispose()
    {
        if (Keep)
        {
            return;
        }

        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process we could not stop still holds a file; the OS cleans /tmp.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}
