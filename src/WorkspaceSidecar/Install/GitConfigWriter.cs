namespace Xares.Sidecar.Install;

internal enum GitConfigScope
{
    Global,
    System,
}

/// <summary>
/// Writes credential.&lt;url&gt;.* entries by running `git config` (no secret is involved).
/// Rule h: an empty helper value first resets the helper list for that url, so a `store`,
/// `cache` or keyring helper configured earlier never gets a Xares token from git's approve.
/// </summary>
internal sealed class GitConfigWriter(GitConfigScope scope, string gitExecutable = "git", IReadOnlyDictionary<string, string>? environment = null)
{
    private const int NothingToUnset = 5;

    public async Task ConfigureAsync(string url, string helperCommand, bool useHttpPath, CancellationToken cancellationToken)
    {
        var helperKey = $"credential.{url}.helper";
        var httpPathKey = $"credential.{url}.useHttpPath";
        await GitAsync(cancellationToken, "--unset-all", helperKey);
        await GitAsync(cancellationToken, "--add", helperKey, "");
        await GitAsync(cancellationToken, "--add", helperKey, helperCommand);
        await GitAsync(cancellationToken, "--unset-all", httpPathKey);
        if (useHttpPath)
        {
            await GitAsync(cancellationToken, httpPathKey, "true");
        }
    }

    /// <summary>Removes what <see cref="ConfigureAsync"/> wrote for every URL whose helper list in this scope runs Xares.</summary>
    public async Task<IReadOnlyList<string>> UnconfigureAsync(CancellationToken cancellationToken)
    {
        var listing = await GitAsync(cancellationToken, "--show-scope", "--show-origin", "-z", "--get-regexp", @"^credential\..*helper$");
        var urls = CredentialHelperChain.Parse(listing)
            .Where(e => e.Url.Length > 0 && CredentialHelperChain.IsXares(e.Value))
            .Select(e => e.Url)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        foreach (var url in urls)
        {
            await GitAsync(cancellationToken, "--unset-all", $"credential.{url}.helper");
            await GitAsync(cancellationToken, "--unset-all", $"credential.{url}.useHttpPath");
        }
        return urls;
    }

    /// <summary>
    /// The helper value for an absolute path. git runs helpers through the shell but only
    /// recognises an absolute path by its leading '/', so a path that needs quoting becomes a
    /// `!` shell command instead.
    /// </summary>
    public static string HelperValue(string absolutePath) =>
        absolutePath.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+')
            ? absolutePath
            : "!'" + absolutePath.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public static bool IsConfigurableUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) &&
        (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) &&
        string.IsNullOrEmpty(uri.UserInfo) &&
        !url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c));

    private Task<string> GitAsync(CancellationToken cancellationToken, params string[] arguments) =>
        GitConfigCommand.RunAsync(gitExecutable, environment, [scope == GitConfigScope.System ? "--system" : "--global", .. arguments],
            Tolerated(arguments[0]), cancellationToken);

    // --unset-all exits 5 when there was nothing to unset; --get-regexp 1 when nothing matched.
    private static int[] Tolerated(string operation) => operation switch
    {
        "--unset-all" => [NothingToUnset],
        "--show-scope" => [1],
        _ => [],
    };
}
