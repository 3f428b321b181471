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

    // Exit 1: no entry matched (no helper configured anywhere).
    private Task<string> ListHelpersAsync(CancellationToken cancellationToken) =>
        GitConfigCommand.RunAsync(gitExecutable, environment,
            ["--show-scope", "--show-origin", "-z", "--get-regexp", @"^credential\..*helper$"], tolerated: [1], cancellationToken);
}
