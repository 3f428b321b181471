using System.Diagnostics;

namespace Xares.DevKit;

/// <summary>Runs a child process to completion with an exact environment, logging what it printed.</summary>
internal static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The environment every child starts from: nothing inherited but PATH, so the developer's
    /// own git config, credentials and XARES_* settings never leak into a test.
    /// </summary>
    public static Dictionary<string, string> BaseEnvironment(string home) => new()
    {
        ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
        ["HOME"] = home,
        ["LANG"] = "C.UTF-8",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };

    public static async Task<CommandResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string> environment,
        string? logFile,
        string? workingDirectory = null,
        string? stdin = null,
        TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var command = string.Join(' ', [fileName, .. info.ArgumentList.Select(ShellQuote)]);
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.StandardInput.WriteAsync(stdin ?? "");
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The child exited without reading its input; its exit code tells the story.
        }

        var timedOut = false;
        using (var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout))
        {
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        stopwatch.Stop();
        var result = new CommandResult(command, process.ExitCode, await stdout, await stderr, stopwatch.Elapsed, timedOut);
        if (logFile is not null)
        {
            await File.AppendAllTextAsync(logFile, result + "\n\n");
        }

        return result;
    }

    /// <summary>An argument as a shell would need it typed, so logged commands read unambiguously.</summary>
    private static string ShellQuote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || "'\"\\$`!*?;&|<>()#~".Contains(c))
            ? argument
            : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
