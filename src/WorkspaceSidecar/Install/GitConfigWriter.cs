using System.Diagnostics;

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

    private async Task<string> GitAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo(gitExecutable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("config");
        start.ArgumentList.Add(scope == GitConfigScope.System ? "--system" : "--global");
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
        if (process.ExitCode != 0 && !Tolerated(arguments[0], process.ExitCode))
        {
            throw new SidecarException($"git config {string.Join(' ', start.ArgumentList.Skip(1))} failed ({process.ExitCode}): {(await errors).Trim()}");
        }
        return output;
    }

    // --unset-all exits 5 when there was nothing to unset; --get-regexp 1 when nothing matched.
    private static bool Tolerated(string operation, int exitCode) => operation switch
    {
        "--unset-all" => exitCode == NothingToUnset,
        "--show-scope" => exitCode == 1,
        _ => false,
    };
}
