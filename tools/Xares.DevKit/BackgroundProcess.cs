using System.Diagnostics;

namespace Xares.DevKit;

/// <summary>
/// A long-running child whose stdout and stderr go straight to a log file (through the shell's
/// redirection, so nothing depends on this process draining pipes).
/// </summary>
internal sealed class BackgroundProcess : IAsyncDisposable
{
    private readonly Process process;

    private BackgroundProcess(Process process, string logFile)
    {
        this.process = process;
        LogFile = logFile;
    }

    public string LogFile { get; }

    /// <summary>The program's pid (the shell wrapper execs it, so it keeps the shell's pid).</summary>
    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public static BackgroundProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string logFile)
    {
        // exec keeps the pid: killing this process kills the program itself, not a shell.
        var info = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", "log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1", "sh", logFile, fileName },
            UseShellExecute = false,
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

        File.AppendAllText(logFile, $"=== {DateTimeOffset.UtcNow:O} start: {string.Join(' ', info.ArgumentList.Skip(4))}\n");
        return new BackgroundProcess(Process.Start(info)!, logFile);
    }

    /// <summary>SIGKILL: the crash case (no chance to clean up).</summary>
    public async Task KillAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited within the grace period.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (process.HasExited)
        {
            return;
        }

        await SignalAsync("TERM");

        using var deadline = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
    }

    /// <summary>Sends a signal by name (TERM, HUP, …) with kill(1).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString()]);
        await kill.WaitForExitAsync();
    }

    /// <summary>The last lines of the log, for failure messages.</summary>
    public string LogTail(int lines = 40)
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var all = new StreamReader(stream).ReadToEnd().Split('\n');
            return $"--- {LogFile} (last {lines} lines) ---\n" + string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException e)
        {
            return $"--- {LogFile} unreadable: {e.Message}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5));
        process.Dispose();
    }
}
