namespace Xares.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A private (0700) temporary folder for one fixture or test: homes, work trees, data dirs and
/// every process log live here, so <see cref="SecretScanner"/> can search all of it. Short paths
/// keep Unix socket paths under the 108-byte limit. Set XARES_E2E_KEEP=1 to keep it for inspection.
/// </summary>
internal sealed class TestDirectory : IDisposable
{
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private TestDirectory(string path) => Path = path;

    public string Path { get; }

    /// <summary>Where process logs go; scanned with everything else.</summary>
    public string Logs => Sub("logs");

    public static TestDirectory Create()
    {
        // /tmp rather than a possibly long TMPDIR: socket paths must stay short.
        var parent = Directory.Exists("/tmp") ? "/tmp" : System.IO.Path.GetTempPath();
        var path = System.IO.Path.Combine(parent, "xe-" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..10]);
        Directory.CreateDirectory(path, PrivateDirectory);
        return new TestDirectory(path);
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
        if (Environment.GetEnvironmentVariable("XARES_E2E_KEEP") == "1")
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
