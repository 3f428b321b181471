using System.Diagnostics;

namespace Xares.Sidecar.Install;

/// <summary>
/// Runs `git config ARGS…` with extra environment variables and returns its standard output;
/// an exit code other than 0 or one of <paramref name="tolerated"/> is a <see cref="SidecarException"/>
/// naming the arguments and git's own error.
/// </summary>
internal static class GitConfigCommand
{
    public static async Task<string> RunAsync(string gitExecutable, IReadOnlyDictionary<string, string>? environment,
        IReadOnlyList<string> arguments, int[] tolerated, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(gitExecutable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("config");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start) ?? throw new SidecarException($"cannot run {gitExecutable}");
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0 && !tolerated.Contains(process.ExitCode))
        {
            throw new SidecarException($"git config {string.Join(' ', arguments)} failed ({process.ExitCode}): {(await errors).Trim()}");
        }
        return output;
    }
}
