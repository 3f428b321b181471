using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Xares.DevGitServer;
using Xares.DevGitServer.GitHub;
using Xares.DevKit;

namespace Xares.Demo;

/// <summary>
/// The optional step (--minted): a GitHub App installation token minted for a workspace, expiring
/// after <see cref="MintedLifetime"/> and replaced by a new one at the next git call, while the
/// git host refuses the old one. GitHub is the stand-in the end-to-end tests use.
/// </summary>
internal sealed partial class DemoScript
{
    private const string AppId = "424242";
    private const long InstallationId = 9001;
    private static readonly TimeSpan MintedLifetime = TimeSpan.FromSeconds(20);

    /// <summary>The broker may reach the loopback stand-in, and reuses a token until 5 s before it expires (default: 5 min).</summary>
    private static readonly string[] MintedBrokerArguments = ["--outbound-allow", "127.0.0.1", "--minted-reuse-margin-seconds", "5"];

    private GitHubApiStandIn? github;
    private GitHttpServer? githubGit;
    private SidecarProcess? mintedSidecar;

    private async Task MintedTokenAsync()
    {
        github = await GitHubApiStandIn.StartAsync();
        github.TokenLifetime = MintedLifetime;
        using var appKey = RSA.Create(2048);
        using var verifying = RSA.Create();
        verifying.ImportSubjectPublicKeyInfo(appKey.ExportSubjectPublicKeyInfo(), out _);
        github.AddApp(AppId, verifying);
        github.AddInstallation(new StandInInstallation(InstallationId, AppId, "acme", ["app"]));
        githubGit = await GitHttpServer.StartAsync(new GitHttpServerOptions
        {
            RepositoriesRoot = directory.Sub("github-git"), TokenIntrospectionUrl = new Uri(github.Origin + "/_standin/introspect"),
        });
        await githubGit.CreateRepositoryAsync(RepositoryPath);
        var host = new Uri(githubGit.BaseUrl).Authority;
        narrator.Say(
            "Instead of a stored token, the broker can mint one per workspace: a GitHub App installation token,\n" +
            "narrowed to the repositories the workspace names, that expires by itself.");
        narrator.Ok($"GitHub API stand-in on {github.Origin}: the documented installation endpoints, RS256 app JWTs checked; its tokens live {MintedLifetime.TotalSeconds:F0} s here (GitHub: 1 h)");
        narrator.Ok($"git host {githubGit.BaseUrl}: accepts a token only while GitHub calls it live, for its repositories");

        narrator.Say("The platform registers the app (its private key is write-only, stored encrypted):");
        var body = new { name = "acme bot", appId = long.Parse(AppId, System.Globalization.CultureInfo.InvariantCulture), privateKey = appKey.ExportRSAPrivateKeyPem(), apiUrl = github.Origin, gitUrl = githubGit.BaseUrl };
        narrator.Command($"POST {Broker.RestUrl}/api/v1/github-apps {{\"name\":\"acme bot\",\"appId\":{AppId},\"privateKey\":\"-----BEGIN RSA PRIVATE KEY-----…\",\"apiUrl\":\"{github.Origin}\",\"gitUrl\":\"{githubGit.BaseUrl}\"}}");
        var registered = await Admin.ExchangeAsync(HttpMethod.Post, "api/v1/github-apps", body);
        narrator.Say($"→ {(int)registered.Status} {registered.Status}");
        if (!registered.Status.Equals(System.Net.HttpStatusCode.Created) || registered.Body.GetRawText().Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new DemoException("registering the GitHub App failed, or the response echoed the key.");
        }
        narrator.Json(registered.Body);

        var created = await CallAsync(HttpMethod.Post, "api/v1/workspaces",
            new { userId, name = "alice-github", allowedHosts = new[] { host }, repositories = new[] { new { host, name = "acme/app", access = "write" } } },
            secretFields: ["bootstrapToken"], printBody: false);
        var mintedWorkspace = AdminClient.IdOf(created);
        mintedSidecar = await SidecarProcess.StartAsync(directory, Broker.GrpcUrl, created.GetProperty("bootstrapToken").GetString()!, "sidecar-gh");
        var shell = GitWorkspace.Create(directory, mintedSidecar.SocketPath, "workspace-gh");
        narrator.Ok($"workspace {mintedWorkspace} names acme/app (write); its sidecar is connected");
        Expect(await shell.InstallXaresAsync());
        narrator.Say("install turned on credential.useHttpPath for the app's git host: git sends owner/repo, which the token is narrowed to:");
        Expect(await shell.GitAsync("config", "--global", "--get", $"credential.{githubGit.BaseUrl}.useHttpPath"));

        var url = githubGit.RepositoryUrl(RepositoryPath);
        Expect(await shell.GitAsync("clone", url, "app"));
        var first = github.Tokens.Single();
        narrator.Protect(first.Token);
        var firstId = (await ShowMintsAsync(mintedWorkspace)).Single();
        narrator.Ok($"minted {Narrator.Mask(first.Token)} (broker id {firstId}) for acme/{{app}}, contents: write; it expires at {first.ExpiresAt:HH:mm:ss} UTC, and so does its lease");

        var wait = first.ExpiresAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1);
        narrator.Say($"Waiting {Math.Max(0, wait.TotalSeconds):F0} s for it to expire…");
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        var clone = Path.Combine(shell.WorkRoot, "app");
        await File.WriteAllTextAsync(Path.Combine(clone, "minted.txt"), "Pushed with a token minted after the first one expired\n");
        Expect(await shell.GitInAsync(clone, "add", "minted.txt"));
        Expect(await shell.GitInAsync(clone, "commit", "-m", "Push with a freshly minted token"));
        Expect(await shell.GitInAsync(clone, "push", "origin", "main"));
        var latest = github.Tokens.OrderBy(t => t.ExpiresAt).Last();
        narrator.Protect(latest.Token);
        var ids = await ShowMintsAsync(mintedWorkspace);
        if (latest.Token == first.Token || ids.Distinct().Count() < 2)
        {
            throw new DemoException("no new token was minted after the first one expired.");
        }
        narrator.Ok($"the push needed a credential, the sidecar's lease had ended with the token, and the broker minted {Narrator.Mask(latest.Token)} (broker id {ids[^1]}), expiring {latest.ExpiresAt:HH:mm:ss} UTC");
        narrator.Say("Each lease ends when its token does (the lease lifetime is 15 min):");
        var leases = AdminClient.ItemsOf(await CallAsync(HttpMethod.Get, $"api/v1/leases?workspaceId={mintedWorkspace}&includeEnded=true", printBody: false)).Reverse();
        narrator.Output(TextTable.Format(["lease", "token id", "issued", "expires", "status"], leases.Select(l => (IReadOnlyList<string>)
        [
            Text(l, "id"), Text(l, "credentialId"), Time(l, "issuedAt"), Time(l, "expiresAt"), Text(l, "status"),
        ])));

        narrator.Say("The git host asks GitHub about each token: the expired one is refused, the new one accepted:");
        foreach (var (which, token, expected) in new[] { ("the first token", first.Token, 401), ("the new token", latest.Token, 200) })
        {
            var status = await ProbeAsync(url, token);
            narrator.Command($"GET {url}/info/refs?service=git-upload-pack  (Basic x-access-token:{Narrator.Mask(token)}, {which})");
            narrator.Say($"→ {status}");
            if (status != expected)
            {
                throw new DemoException($"the git host answered {status} for {which}, not {expected}.");
            }
        }

        var found = github.Tokens.SelectMany(t => SecretScanner.FindFilesContaining(t.Token, [directory.Path])).Distinct().ToList();
        narrator.Ok($"{github.Tokens.Count} minted tokens, found on disk (broker data, logs, homes, work trees): {(found.Count == 0 ? "no" : "YES")}");
        if (found.Count != 0)
        {
            throw new DemoException("a minted token was found in:\n" + string.Join('\n', found));
        }
    }

    /// <summary>Prints the workspace's mint records, oldest first; returns the minted tokens' broker ids.</summary>
    private async Task<IReadOnlyList<string>> ShowMintsAsync(string workspace)
    {
        var page = await CallAsync(HttpMethod.Get, $"api/v1/audit?workspaceId={workspace}&action=github_app.mint&limit=100", printBody: false);
        var records = AdminClient.ItemsOf(page).Reverse().ToList();
        narrator.Output(TextTable.Format(["#", "time (UTC)", "action", "outcome", "token id", "detail"], records.Select(r => (IReadOnlyList<string>)
        [
            Text(r, "sequence"), Time(r, "at"), Text(r, "action"), Text(r, "outcome"), Text(r, "credentialId"), Text(r, "detail"),
        ])));
        return [.. records.Where(r => Text(r, "outcome") == "success").Select(r => Text(r, "credentialId"))];
    }

    private static async Task<int> ProbeAsync(string repositoryUrl, string token)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var probe = new HttpRequestMessage(HttpMethod.Get, repositoryUrl + "/info/refs?service=git-upload-pack");
        probe.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("x-access-token:" + token)));
        using var response = await http.SendAsync(probe);
        return (int)response.StatusCode;
    }

    private async Task StopMintedAsync()
    {
        if (mintedSidecar is not null)
        {
            await mintedSidecar.DisposeAsync();
            mintedSidecar = null;
        }

        if (githubGit is not null)
        {
            await githubGit.DisposeAsync();
            githubGit = null;
        }

        if (github is not null)
        {
            await github.DisposeAsync();
            github = null;
            narrator.Ok("GitHub stand-in, its git host and the second sidecar stopped");
        }
    }
}
