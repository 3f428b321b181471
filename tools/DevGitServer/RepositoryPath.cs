namespace Xares.DevGitServer;

/// <summary>Splits a request path into segments, refusing anything that could escape the root.</summary>
internal static class RepositoryPath
{
    public static bool TrySplit(string? path, out string[] segments)
    {
        segments = [];
        if (string.IsNullOrEmpty(path) || path[0] != '/' || path.Contains('\\', StringComparison.Ordinal) || path.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        var parts = path[1..].Split('/');
        if (parts.Any(p => p.Length == 0 || p == "." || p == ".."))
        {
            return false;
        }

        segments = parts;
        return true;
    }

    public static string[] SplitPrefix(string prefix) =>
        prefix.Split('/', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Whole-segment prefix match: <c>org1/</c> covers <c>org1/x.git</c>, never <c>org1-evil/x.git</c>.</summary>
    public static bool StartsWith(IReadOnlyList<string> path, IReadOnlyList<string> prefix) =>
        prefix.Count <= path.Count && prefix.Select((segment, i) => segment == path[i]).All(same => same);
}
