namespace Xares.GitHelper.Tests.Support;

/// <summary>A private temp directory for one test's socket; short enough for sun_path (108 bytes).</summary>
internal sealed class SocketDirectory : IDisposable
{
    public SocketDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "xgh-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
        SocketPath = System.IO.Path.Combine(Path, "sidecar.sock");
        Assert.True(SocketPath.Length < 100, $"socket path too long for the test: {SocketPath}");
    }

    public string Path { get; }

    public string SocketPath { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
