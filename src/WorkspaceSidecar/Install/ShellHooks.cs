namespace Xares.Sidecar.Install;

/// <summary>
/// The lines that make shells load git-env.sh: a marked block in ~/.profile and ~/.bashrc (login
/// shells, `docker exec … bash`), or with --system /etc/profile.d/xares-git.sh and a block in
/// /etc/bash.bashrc. Uninstall removes exactly these blocks and that file.
/// </summary>
internal sealed class ShellHooks(IReadOnlyList<string> blockFiles, string? ownFile)
{
    private const string Begin = "# >>> xares: git credentials (xares-sidecar install) >>>";
    private const string End = "# <<< xares: git credentials <<<";

    public IReadOnlyList<string> BlockFiles => blockFiles;

    public string? OwnFile => ownFile;

    public static ShellHooks ForUser(string home) =>
        new([Path.Combine(home, ".profile"), Path.Combine(home, ".bashrc")], null);

    public static ShellHooks ForSystem(string etcDirectory) =>
        new([Path.Combine(etcDirectory, "bash.bashrc")], Path.Combine(etcDirectory, "profile.d", "xares-git.sh"));

    public static string SourceLine(string scriptPath)
    {
        var quoted = GitEnvironmentFiles.ShellQuote(scriptPath);
        return $"[ -r {quoted} ] && . {quoted}";
    }

    public void Install(string scriptPath)
    {
        var line = SourceLine(scriptPath);
        foreach (var file in blockFiles)
        {
            var text = File.Exists(file) ? File.ReadAllText(file) : "";
            var stripped = Strip(text);
            var separator = stripped.Length == 0 || stripped.EndsWith('\n') ? "" : "\n";
            WriteFile(file, stripped + separator + Begin + "\n" + line + "\n" + End + "\n");
        }
        if (ownFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(ownFile)!);
            WriteFile(ownFile, "# Written by `xares-sidecar install --system`; `xares-sidecar uninstall --system` removes it.\n" + line + "\n");
        }
    }

    public void Remove()
    {
        foreach (var file in blockFiles.Where(File.Exists))
        {
            var text = File.ReadAllText(file);
            var stripped = Strip(text);
            if (stripped.Length == 0)
            {
                // install created it (or it held nothing but the block).
                File.Delete(file);
            }
            else if (stripped != text)
            {
                WriteFile(file, stripped);
            }
        }
        if (ownFile is not null)
        {
            File.Delete(ownFile);
        }
    }

    /// <summary>The hook files that exist but lack the block (for --check).</summary>
    public IEnumerable<string> Missing(string scriptPath)
    {
        var line = SourceLine(scriptPath);
        foreach (var file in blockFiles.Append(ownFile).OfType<string>())
        {
            if (!File.Exists(file) || !File.ReadAllText(file).Contains(line, StringComparison.Ordinal))
            {
                yield return file;
            }
        }
    }

    internal static string Strip(string text)
    {
        var begin = text.IndexOf(Begin, StringComparison.Ordinal);
        while (begin >= 0)
        {
            var end = text.IndexOf(End, begin, StringComparison.Ordinal);
            if (end < 0)
            {
                break;
            }
            var after = end + End.Length;
            if (after < text.Length && text[after] == '\n')
            {
                after++;
            }
            text = text[..begin] + text[after..];
            begin = text.IndexOf(Begin, StringComparison.Ordinal);
        }
        return text;
    }

    private static void WriteFile(string path, string text)
    {
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        File.WriteAllText(path, text);
    }
}
