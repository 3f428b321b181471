using System.Diagnostics;
using Xares.DevKit;

namespace Xares.Demo;

/// <summary>Steps 5 and 7: git through the sidecar, then revocation.</summary>
internal sealed partial class DemoScript
{
    private static readonly TimeSpan RevocationTarget = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RevocationGiveUp = TimeSpan.FromSeconds(5);

    private async Task UseGitAsync()
    {
        git = GitWorkspace.Create(directory, Sidecar.SocketPath, "workspace");
        narrator.Say(
            $"The workspace user's shell: HOME={git.Home}, XARES_SIDECAR_SOCKET={Sidecar.SocketPath},\n" +
            "git-credential-xares on PATH next to xares-sidecar, as a workspace image has them.");
        Expect(await git.InstallXaresAsync());
        Expect(await git.GitAsync("config", "--global", "--list"));
        narrator.Say(
            "Per served host, an empty helper first resets git's helper list, then the Xares helper follows:\n" +
            "a store, cache or keyring helper configured elsewhere never receives the token (rule h in docs/security-model.md).");

        Expect(await git.GitAsync("clone", repositoryUrl, "app"));
        await File.WriteAllTextAsync(Path.Combine(git.WorkRoot, "app", "hello.txt"), "Hello from a Xares workspace\n");
        narrator.Say("(wrote app/hello.txt)");
        Expect(await git.GitAsync("-C", "app", "add", "hello.txt"));
        Expect(await git.GitAsync("-C", "app", "commit", "-m", "Say hello from the workspace"));
        Expect(await git.GitAsync("-C", "app", "push", "origin", "main"));

        var bare = Path.Combine(GitServer.RepositoriesRoot, RepositoryPath);
        var log = Expect(await git.GitAsync("--git-dir", bare, "log", "--oneline", "main"));
        if (!log.Stdout.Contains("Say hello from the workspace", StringComparison.Ordinal))
        {
            throw new DemoException("the pushed commit is not on the server's main branch.");
        }

        var granted = GitServer.AuthAttempts.Count(a => a.Succeeded && a.Username == GitUser);
        narrator.Ok($"the server accepted {granted} authenticated requests as '{GitUser}'; the token travelled broker → sidecar → helper → git in memory only");
    }

    private async Task RevokeAsync()
    {
        narrator.Say("The sidecar holds the lease in memory, so git is served without asking the broker:");
        Expect(await Git.GitAsync("ls-remote", repositoryUrl));

        narrator.Say("The platform deletes the credential (an offboarding, a leaked token):");
        await CallAsync(HttpMethod.Delete, $"api/v1/credentials/{credentialId}");
        var clock = Stopwatch.StartNew();
        var attempts = 0;
        CommandResult last;
        do
        {
            last = await Git.GitAsync("ls-remote", repositoryUrl);
            attempts++;
        }
        while (last.Succeeded && clock.Elapsed < RevocationGiveUp);

        var elapsed = clock.Elapsed;
        Show(last);
        if (last.Succeeded)
        {
            throw new DemoException($"git still had access {RevocationGiveUp.TotalSeconds:F0} s after the credential was deleted.");
        }

        narrator.Ok($"git lost access {elapsed.TotalMilliseconds:F0} ms after the DELETE returned (attempt {attempts}); " +
                    $"within a second: {(elapsed <= RevocationTarget ? "yes" : "no")}");
        narrator.Say("The broker pushed the revocation to the sidecar, which dropped its cached lease:");
        Expect(await Sidecar.StatusAsync());
        narrator.Say(
            "Honest limit: this ends every Xares lease at once, but the token itself stays valid at the git\n" +
            "provider until it is rotated there (design §4).");
    }
}
