using System.Diagnostics;

namespace Xares.Sidecar.Install;

/// <summary>A helper that would receive Xares tokens for a served URL, with where it is configured.</summary>
internal sealed record ForeignHelper(string Url, string Helper, string Location);

/// <summary>
/// Asks git for every credential helper entry (system, global, local, command scope) and reports,
/// per served URL, the non-Xares helpers left next to Xares. Runs git in the working directory and
/// environment it is given, so a repository's local config counts too.
/// </summary>
internal sealed class HelperChainCheck(string gitExecutable, IReadOnlyDictionary<string, string>? environment, Func<string, string?> readEnvironment)
{
    /// <summary>Whether this environment's command-scope config already includes <paramref name="confPath"/>.</summary>
    public bool IncludesConf(string confPath)
    {
        var count = int.TryParse(Read("GIT_CONFIG_COUNT"), out var n) ? n : 0;
        for (var i = 0; i < count; i++)
        {
            if (Read($"GIT_CONFIG_KEY_{i}") == "include.path" && Read($"GIT_CONFIG_VALUE_{i}") == confPath)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The same environment with include.path=<paramref name="confPath"/> appended, as git-env.sh does it.</summary>
    public HelperChainCheck WithConf(string confPath)
    {
        if (IncludesConf(confPath))
        {
            return this;
        }
        var extended = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        var count = int.TryParse(Read("GIT_CONFIG_COUNT"), out var n) && n >= 0 ? n : 0;
        extended[$"GIT_CONFIG_KEY_{count}"] = "include.path";
        extended[$"GIT_CONFIG_VALUE_{count}"] = confPath;
        extended["GIT_CONFIG_COUNT"] = (count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new HelperChainCheck(gitExecutable, extended, readEnvironment);
    }

    public async Task<IReadOnlyList<ForeignHelper>> FindAsync(IEnumerable<string> urls, CancellationToken cancellationToken)
    {
        var entries = CredentialHelperChain.Parse(await ListHelpersAsync(cancellationToken));
        var found = new List<ForeignHelper>();
        foreach (var url in urls)
        {
            foreach (var entry in CredentialHelperChain.Foreign(entries, url))
            {
                found.Add(new ForeignHelper(url, entry.Value, ConfigLineFinder.Describe(entries, entry)));
            }
        }
        return found;
    }

    private string? Read(string name) =>
        environment is not null && environment.TryGetValue(name, out var value) ? value : readEnvironment(name);

    private async Task<string> ListHelpersAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(gitExecutable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["config", "--show-scope", "--show-origin", "-z", "--get-regexp", @"^credential\..*helper$"])
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
        // Exit 1: no entry matched (no helper configured anywhere).
        if (process.ExitCode is not (0 or 1))
        {
            throw new SidecarException($"git config --get-regexp credential helpers failed ({process.ExitCode}): {(await errors).Trim()}");
        }
        return output;
    }
}
