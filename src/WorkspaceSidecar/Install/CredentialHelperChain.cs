namespace Xares.Sidecar.Install;

/// <summary>One `credential.[url.]helper` entry as `git config --show-scope --show-origin -z --get-regexp` lists it.</summary>
internal sealed record GitConfigEntry(string Scope, string Origin, string Key, string Value)
{
    /// <summary>The URL of `credential.&lt;url&gt;.helper`, or "" for the plain `credential.helper`.</summary>
    public string Url => Key.Length > "credential..helper".Length ? Key["credential.".Length..^".helper".Length] : "";

    /// <summary>The file an entry came from, or null (command line, environment, blob).</summary>
    public string? OriginFile => Origin.StartsWith("file:", StringComparison.Ordinal) ? Origin["file:".Length..] : null;
}

/// <summary>
/// The helpers git runs for a URL, computed the way git 2.39 does it (credential.c,
/// urlmatch with select_all): every matching `credential.helper` entry in the order git reads
/// config (system, global, local, worktree, then command scope), where an empty value
/// clears the list built so far. git's `approve` runs `store` on every helper left in that
/// list, wherever it sits, so any helper other than Xares that remains next to it receives
/// a Xares token.
/// </summary>
internal static class CredentialHelperChain
{
    /// <summary>Parses `git config --show-scope --show-origin -z --get-regexp '^credential\..*helper$'`.</summary>
    public static IReadOnlyList<GitConfigEntry> Parse(string output)
    {
        var fields = output.Split('\0');
        var entries = new List<GitConfigEntry>();
        // Records are scope NUL origin NUL key[LF value] NUL; a key without LF has no value (boolean true).
        for (var i = 0; i + 2 < fields.Length; i += 3)
        {
            var keyAndValue = fields[i + 2];
            var newline = keyAndValue.IndexOf('\n', StringComparison.Ordinal);
            var key = newline < 0 ? keyAndValue : keyAndValue[..newline];
            var value = newline < 0 ? "" : keyAndValue[(newline + 1)..];
            if (key.StartsWith("credential.", StringComparison.OrdinalIgnoreCase) && key.EndsWith(".helper", StringComparison.OrdinalIgnoreCase))
            {
                entries.Add(new GitConfigEntry(fields[i], fields[i + 1], key, value));
            }
        }
        return entries;
    }

    /// <summary>The helper entries git would run for <paramref name="url"/>, in order, after resets.</summary>
    public static IReadOnlyList<GitConfigEntry> Effective(IEnumerable<GitConfigEntry> entries, string url)
    {
        var chain = new List<GitConfigEntry>();
        foreach (var entry in entries.Where(e => Matches(e.Url, url)))
        {
            if (entry.Value.Length == 0)
            {
                chain.Clear();
            }
            else
            {
                chain.Add(entry);
            }
        }
        return chain;
    }

    /// <summary>The helpers that would receive a Xares token for <paramref name="url"/>: every non-Xares helper in a chain that holds Xares.</summary>
    public static IReadOnlyList<GitConfigEntry> Foreign(IEnumerable<GitConfigEntry> entries, string url)
    {
        var chain = Effective(entries, url);
        return chain.Any(e => IsXares(e.Value)) ? chain.Where(e => !IsXares(e.Value)).ToList() : [];
    }

    /// <summary>A helper value that runs git-credential-xares (by path, by `!` command, or as `xares`).</summary>
    public static bool IsXares(string value)
    {
        var trimmed = value.Trim();
        return trimmed == "xares" || trimmed.Contains("git-credential-xares", StringComparison.Ordinal);
    }

    /// <summary>
    /// Whether a config URL (`credential.&lt;configUrl&gt;.*`) applies to <paramref name="url"/>.
    /// Deliberately broader than git where git's answer depends on useHttpPath or a user name:
    /// a path on either side and a user in the config URL still count as a match, so a check never
    /// misses a helper git might run.
    /// </summary>
    public static bool Matches(string configUrl, string url)
    {
        if (configUrl.Length == 0)
        {
            return true;
        }
        if (!TryParse(configUrl, out var pattern) || !TryParse(url, out var target))
        {
            // git ignores a config URL it cannot parse; one we cannot parse is reported as matching.
            return true;
        }
        return pattern.Scheme == target.Scheme &&
            pattern.Port == target.Port &&
            HostMatches(pattern.Host, target.Host) &&
            (target.Path.StartsWith(pattern.Path, StringComparison.Ordinal) || pattern.Path.StartsWith(target.Path, StringComparison.Ordinal));
    }

    private static bool HostMatches(string pattern, string host)
    {
        var patternLabels = pattern.Split('.');
        var hostLabels = host.Split('.');
        return patternLabels.Length == hostLabels.Length &&
            patternLabels.Zip(hostLabels).All(p => p.First == "*" || p.First == p.Second);
    }

    private static bool TryParse(string url, out (string Scheme, string Host, int Port, string Path) parts)
    {
        parts = default;
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return false;
        }
        var scheme = url[..schemeEnd].ToLowerInvariant();
        var rest = url[(schemeEnd + 3)..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var path = slash < 0 ? "/" : rest[slash..];
        var at = authority.LastIndexOf('@');
        var hostPort = at < 0 ? authority : authority[(at + 1)..];
        var colon = hostPort.LastIndexOf(':');
        var port = scheme switch { "https" => 443, "http" => 80, _ => 0 };
        if (colon >= 0 && !hostPort.EndsWith(']') && !int.TryParse(hostPort[(colon + 1)..], out port))
        {
            return false;
        }
        var host = (colon >= 0 && !hostPort.EndsWith(']') ? hostPort[..colon] : hostPort).ToLowerInvariant();
        parts = (scheme, host, port, path.EndsWith('/') ? path : path + "/");
        return host.Length > 0;
    }
}
