namespace Xares.Sidecar.Install;

/// <summary>
/// Finds the line of a `credential.[url.]helper` entry in a git config file, so a refusal can name
/// "file:line". git 2.39's --show-origin names only the file; entries are matched by occurrence
/// (the n-th helper for that URL in that file), which is how git reads them.
/// </summary>
internal static class ConfigLineFinder
{
    public static int? Find(string text, string url, int occurrence)
    {
        var lines = text.Split('\n');
        var inSection = false;
        var seen = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith('['))
            {
                var close = line.LastIndexOf(']');
                inSection = close > 0 && SectionUrl(line[1..close]) is { } sectionUrl && sectionUrl == url;
                line = close > 0 ? line[(close + 1)..].Trim() : "";
            }
            if (!inSection || line.Length == 0)
            {
                continue;
            }
            var name = line.Split('=', 2)[0].Trim();
            if (name.Equals("helper", StringComparison.OrdinalIgnoreCase) && seen++ == occurrence)
            {
                return i + 1;
            }
        }
        return null;
    }

    /// <summary>"credential" → "", `credential "url"` → url, "credential.url" (old form) → url; other sections → null.</summary>
    private static string? SectionUrl(string header)
    {
        header = header.Trim();
        if (header.Equals("credential", StringComparison.OrdinalIgnoreCase))
        {
            return "";
        }
        if (header.StartsWith("credential.", StringComparison.OrdinalIgnoreCase))
        {
            return header["credential.".Length..];
        }
        if (!header.StartsWith("credential", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var rest = header["credential".Length..].Trim();
        if (rest.Length < 2 || rest[0] != '"' || rest[^1] != '"')
        {
            return null;
        }
        return rest[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
    }

    /// <summary>"file:line" of <paramref name="wanted"/>, one of <paramref name="entries"/> (its origin and scope when not a file).</summary>
    public static string Describe(IReadOnlyList<GitConfigEntry> entries, GitConfigEntry wanted)
    {
        var file = wanted.OriginFile;
        if (file is null)
        {
            return $"{wanted.Origin} ({wanted.Scope})";
        }
        var occurrence = 0;
        foreach (var entry in entries)
        {
            if (ReferenceEquals(entry, wanted))
            {
                break;
            }
            if (entry.Origin == wanted.Origin && entry.Url == wanted.Url)
            {
                occurrence++;
            }
        }
        int? line = null;
        try
        {
            line = Find(File.ReadAllText(file), wanted.Url, occurrence);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return line is null ? file : $"{file}:{line}";
    }
}
