using System.Diagnostics;

namespace Xares.Tests.Shared;

/// <summary>
/// Asks a real bash, zsh or fish what a generated completion script offers after the given words
/// (the last one is the word being completed; "" for a new word). Linked into the broker's, the
/// sidecar's and the end-to-end tests.
/// </summary>
internal static class ShellCompletion
{
    public static Task<string[]> BashAsync(string scriptFile, string program, params string[] words)
    {
        var typed = string.Join(' ', words.Prepend(program).Select(Quote));
        return RunAsync("bash", ["-c", $"source {Quote(scriptFile)}; COMP_WORDS=({typed}); COMP_CWORD={words.Length}; {Function(program)}; printf '%s\\n' \"${{COMPREPLY[@]}}\""]);
    }

    /// <summary>
    /// zsh's compadd, _describe and _files only work inside its completion widget, so stand-ins
    /// print what the script hands them; the script's own logic runs in a real zsh.
    /// </summary>
    public static Task<string[]> ZshAsync(string scriptFile, string program, params string[] words)
    {
        const string StandIns = """
            compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }
            _describe() { local -a items; items=("${(@P)2}"); print -l -- "${items[@]%%:*}"; }
            _files() { print -- '<files>'; }
            compdef() { :; }
            """;
        var typed = string.Join(' ', words.Prepend(program).Select(Quote));
        return RunAsync("zsh", ["-fc", $"{StandIns}\nsource {Quote(scriptFile)}\nwords=({typed}); CURRENT={words.Length + 1}; {Function(program)}"]);
    }

    /// <summary>fish completes a command line without a terminal: `complete -C`; descriptions after a tab are dropped.</summary>
    public static async Task<string[]> FishAsync(string scriptFile, string program, params string[] words)
    {
        var line = string.Join(' ', words.Prepend(program));
        var lines = await RunAsync("fish", ["--no-config", "-c", $"source {Quote(scriptFile)}; complete -C {Quote(line)}"]);
        return [.. lines.Select(l => l.Split('\t')[0])];
    }

    private static string Function(string program) => "_" + program.Replace('-', '_');

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static async Task<string[]> RunAsync(string shell, string[] arguments)
    {
        var info = new ProcessStartInfo(shell) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        if (process.ExitCode != 0 || (await error).Length > 0)
        {
            throw new InvalidOperationException($"{shell} exited {process.ExitCode}: {await error}");
        }
        return (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
