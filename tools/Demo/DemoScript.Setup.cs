using System.Security.Cryptography;
using Xares.DevGitServer;
using Xares.DevKit;

namespace Xares.Demo;

/// <summary>Steps 1–4: broker, git server, the stored credential, a workspace with its sidecar.</summary>
internal sealed partial class DemoScript
{
    private async Task StartBrokerAsync()
    {
        // Fail early, with the publish hint, if any artifact is missing.
        _ = (Artifacts.BrokerDll, Artifacts.Sidecar, Artifacts.GitHelper);
        narrator.Say(
            "xares-broker is one ASP.NET Core process: the REST admin API for the platform, gRPC for\n" +
            "sidecars, the vault (AES-256-GCM envelope encryption) and the HMAC-chained audit log.");
        string[] extra = minted ? MintedBrokerArguments : [];
        broker = await BrokerProcess.StartAsync(directory, extra);
        narrator.Protect(broker.AdminKey);
        admin = broker.CreateAdminClient();
        narrator.Command($"dotnet {Artifacts.BrokerDll} serve --data-dir {broker.DataDirectory} --rest-url {broker.RestUrl} --grpc-url {broker.GrpcUrl}{string.Concat(extra.Select(a => " " + a))}");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var health = await http.GetAsync($"{broker.RestUrl}/healthz");
        narrator.Ok($"REST API on {broker.RestUrl}, gRPC for sidecars on {broker.GrpcUrl}; GET /healthz → {(int)health.StatusCode} {(await health.Content.ReadAsStringAsync()).Trim()}");

        var keyFile = Path.Combine(broker.DataDirectory, "initial-admin-key");
        narrator.Ok($"first start: the broker wrote an admin API key to {keyFile} (mode {Octal(keyFile)}), never to its log;\n" +
                    $"the demo uses it as the platform backend would: {Narrator.Mask(broker.AdminKey)}");
        var masterKey = Path.Combine(broker.DataDirectory, "master.key");
        if (File.Exists(masterKey))
        {
            narrator.Say($"No XARES_MASTER_KEY was given, so the broker created {masterKey} (mode {Octal(masterKey)}),\n" +
                         "as it does in development; production passes XARES_MASTER_KEY or XARES_MASTER_KEY_FILE.");
        }
    }

    private async Task StartGitServerAsync()
    {
        token = "xdemo_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        narrator.Protect(token);
        gitServer = await GitHttpServer.StartAsync(new GitHttpServerOptions
        {
            RepositoriesRoot = directory.Sub("git-server"),
            Accounts = [new GitAccount(GitUser, token)],
        });
        await gitServer.CreateRepositoryAsync(RepositoryPath);
        repositoryUrl = gitServer.RepositoryUrl(RepositoryPath);
        narrator.Say("A smart-HTTP git server (git http-backend behind HTTP Basic auth) stands in for GitHub or GitLab.");
        narrator.Ok($"{gitServer.BaseUrl}: bare repository {RepositoryPath} with one commit on main");
        narrator.Ok($"account '{GitUser}' whose token was generated at run time: {Narrator.Mask(token)} (160 random bits)");

        narrator.Say("Without credentials the server turns git away:");
        var stranger = GitWorkspace.Create(directory, sidecarSocket: null, "stranger");
        var refused = await stranger.GitAsync("ls-remote", repositoryUrl);
        Show(refused);
        if (refused.Succeeded)
        {
            throw new DemoException("the git server let a client without credentials in.");
        }
    }

    private async Task StoreCredentialAsync()
    {
        narrator.Say("The platform backend creates the user and stores the token, with the broker's REST API:");
        var user = await CallAsync(HttpMethod.Post, "api/v1/users", new { name = GitUser, email = "alice@acme.test" });
        userId = AdminClient.IdOf(user);

        var credential = await CallAsync(HttpMethod.Post, $"api/v1/users/{userId}/credentials", new
        {
            kind = "git",
            provider = "generic",
            url = GitServer.BaseUrl,
            username = GitUser,
            secret = token,
            name = "acme git server",
        });
        credentialId = AdminClient.IdOf(credential);
        if (credential.GetRawText().Contains(token, StringComparison.Ordinal))
        {
            throw new DemoException("the REST response echoed the secret.");
        }

        var hint = credential.TryGetProperty("secretHint", out var value) ? value.GetString() : null;
        narrator.Ok($"stored encrypted; the response shows only the secretHint \"{hint}\", never the token");
    }

    private async Task StartWorkspaceAsync()
    {
        var host = new Uri(GitServer.BaseUrl).Authority;
        narrator.Say($"The platform registers the workspace, allowed to reach {host} only:");
        var created = await CallAsync(HttpMethod.Post, "api/v1/workspaces",
            new { userId, name = "alice-app", allowedHosts = new[] { host } },
            secretFields: ["bootstrapToken"]);
        workspaceId = AdminClient.IdOf(created);
        bootstrapToken = created.GetProperty("bootstrapToken").GetString()
            ?? throw new DemoException("the broker returned no bootstrap token.");

        narrator.Say(
            "Without Docker, the platform hands the single-use bootstrap token to the workspace's sidecar\n" +
            "in a file only that user can read (0600); the sidecar redeems it for a session and deletes it.\n" +
            "(With Docker, the broker does this itself: `xares-sidecar bootstrap` exec'd with the token on stdin.)");
        sidecar = await SidecarProcess.StartAsync(directory, Broker.GrpcUrl, bootstrapToken, "sidecar");
        narrator.Command($"xares-sidecar serve --broker {Broker.GrpcUrl} --socket {sidecar.SocketPath} --bootstrap-token-file {sidecar.TokenFile}");
        if (File.Exists(sidecar.TokenFile))
        {
            throw new DemoException($"the bootstrap token file {sidecar.TokenFile} is still on disk after the sidecar started.");
        }

        narrator.Ok($"the sidecar redeemed the token, deleted {sidecar.TokenFile} and serves {sidecar.SocketPath}");
        Expect(await sidecar.StatusAsync());
        if (!SidecarProcess.ReportsConnected(await sidecar.StatusJsonAsync()))
        {
            throw new DemoException("xares-sidecar status does not report a connection to the broker.");
        }
    }
}
