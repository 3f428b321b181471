using System.Diagnostics;
using Xares.Sidecar.Install;

namespace Xares.GitHelper;

/// <summary>
/// On store/erase only (never on get, which stays free of subprocesses): asks git which credential
/// helpers it runs for this URL, with the environment and working directory git gave us (so
/// `git -c`, GIT_CONFIG_COUNT and the repository's config count), and returns the command names
/// of those other than Xares: git hands them the same credential.
/// </summary>
internal static class ForeignHelperProbe
{
    public static IReadOnlyList<string> Find(CredentialRequest request, TimeSpan timeout)
    {
        var url = $"{request.Protocol}://{request.Host}/{request.Path}";
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["config", "--show-scope", "--show-origin", "-z", "--get-regexp", @"^credential\..*helper$"])
        {
            start.ArgumentList.Add(argument);
        }
        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return [];
            }
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill();
                return [];
            }
            return CredentialHelperChain.Foreign(CredentialHelperChain.Parse(output.Result), url)
                .Select(e => CommandName(e.Value))
                .Distinct(StringComparer.Ordinal)
                .ToList();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return [];
        }
    }

    // The name only: a helper's arguments (a `!` shell snippet, a --file path) stay out of reports.
    internal static string CommandName(string helper)
    {
        var name = helper.Trim().Split([' ', '\t'], 2)[0];
        return name.StartsWith('!') ? "!" + Path.GetFileName(name[1..].Trim('\'', '"')) : Path.GetFileName(name);
    }
}
