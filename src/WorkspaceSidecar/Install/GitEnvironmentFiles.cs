using System.Text;

namespace Xares.Sidecar.Install;

/// <summary>A served URL as install writes it: the helper reset, the Xares helper, and useHttpPath.</summary>
internal sealed record ServedUrl(string Url, bool UseHttpPath);

/// <summary>
/// The files that deliver the Xares helper entries as command-scope config (rule h everywhere):
/// <c>git-credentials.conf</c> holds, per served URL, the helper reset and the Xares helper;
/// <c>git-env.sh</c> appends <c>include.path=&lt;conf&gt;</c> to GIT_CONFIG_COUNT/KEY_n/VALUE_n.
/// git (≥ 2.31) reads those after system, global and local config, so the reset drops every
/// helper configured anywhere before it.
/// </summary>
internal sealed class GitEnvironmentFiles(string directory)
{
    public const string ConfFileName = "git-credentials.conf";
    public const string ScriptFileName = "git-env.sh";
    private const string UrlsHeader = "# xares-url ";

    public string Directory => directory;

    public string ConfPath => Path.Combine(directory, ConfFileName);

    public string ScriptPath => Path.Combine(directory, ScriptFileName);

    public static string DefaultDirectory(bool system, Func<string, string?> environment) =>
        system ? "/etc/xares" : Path.Combine(environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Home(environment), ".config"), "xares");

    public static string Home(Func<string, string?> environment) =>
        environment("HOME") is { Length: > 0 } home ? home : throw new SidecarException("HOME is not set; pass --env-dir DIR");

    public void Write(IReadOnlyList<ServedUrl> urls, string helperCommand)
    {
        System.IO.Directory.CreateDirectory(directory);
        // Readable by everyone with --system (every user's shell loads it); nothing in it is secret.
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        WriteAtomically(ConfPath, RenderConf(urls, helperCommand), mode);
        WriteAtomically(ScriptPath, RenderScript(ConfPath), mode);
    }

    /// <summary>The served URLs an earlier install recorded in the conf file (for --check and uninstall).</summary>
    public IReadOnlyList<ServedUrl> ReadUrls()
    {
        if (!File.Exists(ConfPath))
        {
            return [];
        }
        return File.ReadLines(ConfPath)
            .Where(l => l.StartsWith(UrlsHeader, StringComparison.Ordinal))
            .Select(l => l[UrlsHeader.Length..].Split(' '))
            .Select(parts => new ServedUrl(parts[0], parts.Length > 1 && parts[1] == "useHttpPath"))
            .ToList();
    }

    public void Remove()
    {
        File.Delete(ConfPath);
        File.Delete(ScriptPath);
        if (System.IO.Directory.Exists(directory) && !System.IO.Directory.EnumerateFileSystemEntries(directory).Any())
        {
            System.IO.Directory.Delete(directory);
        }
    }

    internal static string RenderConf(IReadOnlyList<ServedUrl> urls, string helperCommand)
    {
        var text = new StringBuilder("# Written by `xares-sidecar install`; `xares-sidecar uninstall` removes it.\n")
            .Append("# Loaded as command-scope config (git-env.sh), after every config file, so the empty\n")
            .Append("# helper resets the list: no other helper receives a Xares token.\n");
        foreach (var url in urls)
        {
            text.Append(UrlsHeader).Append(url.Url).Append(url.UseHttpPath ? " useHttpPath" : "").Append('\n');
        }
        foreach (var url in urls)
        {
            text.Append("[credential \"").Append(Escape(url.Url)).Append("\"]\n")
                .Append("\thelper =\n")
                .Append("\thelper = \"").Append(Escape(helperCommand)).Append("\"\n");
            if (url.UseHttpPath)
            {
                text.Append("\tuseHttpPath = true\n");
            }
        }
        return text.ToString();
    }

    /// <summary>POSIX sh (busybox too); sourcing it twice adds the include once.</summary>
    internal static string RenderScript(string confPath) => $$"""
        # Written by `xares-sidecar install`; `xares-sidecar uninstall` removes it.
        # Appends include.path=<git-credentials.conf> to git's command-scope config (GIT_CONFIG_COUNT,
        # git >= 2.31), keeping whatever GIT_CONFIG_KEY_n/VALUE_n are already set. Safe to source twice.
        xares_conf={{ShellQuote(confPath)}}
        xares_n=${GIT_CONFIG_COUNT:-0}
        case $xares_n in ''|*[!0-9]*) xares_n=0 ;; esac
        xares_i=0
        xares_found=
        while [ "$xares_i" -lt "$xares_n" ]; do
            eval "xares_k=\${GIT_CONFIG_KEY_$xares_i-} xares_v=\${GIT_CONFIG_VALUE_$xares_i-}"
            if [ "$xares_k" = include.path ] && [ "$xares_v" = "$xares_conf" ]; then xares_found=1; fi
            xares_i=$((xares_i + 1))
        done
        if [ -z "$xares_found" ]; then
            export "GIT_CONFIG_KEY_$xares_n=include.path"
            export "GIT_CONFIG_VALUE_$xares_n=$xares_conf"
            export GIT_CONFIG_COUNT=$((xares_n + 1))
        fi
        unset xares_conf xares_n xares_i xares_found xares_k xares_v

        """;

    internal static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private static void WriteAtomically(string path, string text, UnixFileMode mode)
    {
        var temporary = path + ".tmp";
        File.Delete(temporary);
        using (var stream = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode }))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
