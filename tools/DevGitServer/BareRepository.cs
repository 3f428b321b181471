using System.Diagnostics;

namespace Xares.DevGitServer;

/// <summary>Creates bare repositories with an initial commit, using git plumbing only (no work tree).</summary>
internal static class BareRepository
{
    public const string InitialFile = "README.md";

    public static async Task<string> CreateAsync(string repositoriesRoot, string relativePath, CancellationToken cancellationToken = default)
    {
        if (!RepositoryPath.TrySplit("/" + relativePath.Trim('/'), out var segments))
        {
            throw new ArgumentException($"Not a plain relative repository path: '{relativePath}'.", nameof(relativePath));
        }

        var directory = Path.Combine([repositoriesRoot, .. segments]);
        await GitAsync(null, null, cancellationToken, "init", "--quiet", "--bare", "--initial-branch=main", directory);
        var blob = await GitAsync(directory, $"# {relativePath}\n", cancellationToken, "hash-object", "-w", "--stdin");
        var tree = await GitAsync(directory, $"100644 blob {blob}\t{InitialFile}\n", cancellationToken, "mktree");
        var commit = await GitAsync(directory, null, cancellationToken, "commit-tree", tree, "-m", "Initial commit");
        await GitAsync(directory, null, cancellationToken, "update-ref", "refs/heads/main", commit);
        return directory;
    }

    private static async Task<string> GitAsync(string? gitDir, string? stdin, CancellationToken cancellationToken, params string[] args)
    {
        var info = new ProcessStartInfo("git")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (gitDir is not null)
        {
            info.ArgumentList.Add("--git-dir=" + gitDir);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Isolated from whoever runs the tests: no user config, a fixed identity.
        info.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        info.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        info.Environment["GIT_AUTHOR_NAME"] = info.Environment["GIT_COMMITTER_NAME"] = "Xares Dev";
        info.Environment["GIT_AUTHOR_EMAIL"] = info.Environment["GIT_COMMITTER_EMAIL"] = "dev@xares.invalid";

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', args)} failed ({process.ExitCode}): {(await stderr).Trim()}");
        }

        return (await stdout).Trim();
    }
}
