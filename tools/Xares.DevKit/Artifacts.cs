namespace Xares.DevKit;

/// <summary>
/// The published programs that tests, the demo and benchmarks run: <c>artifacts/</c> at the repository root (found by walking
/// up to Xares.sln), or the folder named by <c>XARES_ARTIFACTS</c>.
/// </summary>
internal static class Artifacts
{
    private static readonly Lazy<string> Root = new(FindArtifactsRoot);

    public static string BrokerDll => Require("broker", "xares-broker.dll");

    public static string Sidecar => Require("native", "xares-sidecar");

    public static string GitHelper => Require("native", "git-credential-xares");

    /// <summary>The folder holding the native sidecar and helper (put on PATH so git finds the helper).</summary>
    public static string NativeDirectory => Path.GetDirectoryName(GitHelper)!;

    private static string Require(string folder, string file)
    {
        var path = Path.Combine(Root.Value, folder, file);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"Published artifact '{path}' is missing. Run 'bash scripts/publish.sh' from the repository root " +
                "(or set XARES_ARTIFACTS to a folder holding broker/ and native/) first.", path);
        }

        return path;
    }

    /// <summary>The repository root: the first folder above the running binaries that holds Xares.sln.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Xares.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new DirectoryNotFoundException(
                $"No Xares.sln above '{AppContext.BaseDirectory}'; set XARES_ARTIFACTS to the published artifacts folder.");
        }
    }

    private static string FindArtifactsRoot() =>
        Environment.GetEnvironmentVariable("XARES_ARTIFACTS") is { Length: > 0 } overridden
            ? Path.GetFullPath(overridden)
            : Path.Combine(RepositoryRoot, "artifacts");
}
