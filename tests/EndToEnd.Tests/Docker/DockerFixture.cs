using System.Text.Json;
using Xares.DevGitServer;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Docker;

/// <summary>
/// A real Docker engine, the offline-built workspace image, a broker watching that engine and a
/// dev git server on loopback (containers run with --network host, so they reach both).
/// </summary>
public class DockerFixture : IAsyncLifetime
{
    private readonly List<(DockerEngine Engine, string Id)> containers = [];
    private int counter;

    internal ScratchDirectory Directory { get; } = ScratchDirectory.Create("xd-");

    internal DockerEngine Engine { get; private set; } = null!;

    internal string Image { get; private set; } = "";

    internal BrokerProcess Broker { get; private set; } = null!;

    internal AdminClient Admin { get; private set; } = null!;

    internal GitHttpServer GitServer { get; private set; } = null!;

    internal string NextName(string prefix) => $"{prefix}{Interlocked.Increment(ref counter)}";

    /// <summary>Starts a workspace container labelled <paramref name="label"/>; returns its full id.</summary>
    /// <param name="sidecarDelaySeconds">Starts the entrypoint (and so the sidecar) this late, so the token arrives before it listens.</param>
    /// <param name="broker">The broker its sidecar connects to; the fixture's by default.</param>
    /// <param name="labelName">xares.workspace (the label is a workspace id) or xares.claim (a signed claim).</param>
    /// <param name="image">The image to run; the fixture's workspace image by default.</param>
    /// <param name="tmpfsOwner">The uid that owns /run/xares (the sidecar's, when the image's USER is not root).</param>
    /// <param name="engine">The engine to run it on; the fixture's first by default.</param>
    internal async Task<string> RunContainerAsync(string label, int bootstrapWaitSeconds = 20, int sidecarDelaySeconds = 0, BrokerProcess? broker = null,
        string labelName = "xares.workspace", string? image = null, int? tmpfsOwner = null, DockerEngine? engine = null)
    {
        engine ??= Engine;
        image ??= Image;
        string[] late = sidecarDelaySeconds > 0
            ? ["--entrypoint", "sh", image, "-c", $"sleep {sidecarDelaySeconds}; exec /usr/local/bin/xares-entrypoint.sh sleep infinity"]
            : [image];
        var tmpfs = tmpfsOwner is { } uid ? $"/run/xares:mode=0700,uid={uid}" : "/run/xares:mode=0700";
        var id = await engine.DockerOkAsync(["run", "-d", "--network", "host", "--tmpfs", tmpfs,
            "--label", $"{labelName}={label}", "-e", $"XARES_BROKER_URL={(broker ?? Broker).GrpcUrl}",
            "-e", $"XARES_BOOTSTRAP_WAIT={bootstrapWaitSeconds}", .. late]);
        lock (containers)
        {
            containers.Add((engine, id));
        }
        return id;
    }

    /// <summary>docker exec on the engine the fixture ran <paramref name="container"/> on.</summary>
    internal Task<CommandResult> ExecAsync(string container, params string[] command) =>
        EngineOf(container).DockerAsync(["exec", container, .. command]);

    internal DockerEngine EngineOf(string container)
    {
        lock (containers)
        {
            return containers.Where(c => c.Id == container).Select(c => c.Engine).FirstOrDefault() ?? Engine;
        }
    }

    /// <summary>
    /// What `xares-sidecar status --json` in the container says about its session, by exit code
    /// (docs/cli.md: 0, or 3 while the broker is unreachable, with a session; 4 without) and by JSON.
    /// </summary>
    internal async Task AssertSessionAsync(string container, bool held)
    {
        var status = await ExecAsync(container, "xares-sidecar", "status", "--json");
        Assert.True(held ? status.ExitCode is 0 or 3 : status.ExitCode == 4, status.ToString());
        using var json = JsonDocument.Parse(status.Stdout);
        Assert.Equal(held, json.RootElement.GetProperty("hasSession").GetBoolean());
    }

    /// <param name="admin">REST of the broker that holds the workspace; the fixture's by default.</param>
    internal async Task<JsonElement> WorkspaceAsync(string id, AdminClient? admin = null) =>
        (await (admin ?? Admin).ListWorkspacesAsync()).Single(w => w.GetProperty("id").GetString() == id);

    /// <summary>Ids of the workspace's live sessions, as REST shows them.</summary>
    internal async Task<IReadOnlyList<string>> SessionsAsync(string workspaceId, AdminClient? admin = null) =>
        [.. (await WorkspaceAsync(workspaceId, admin)).GetProperty("activeSessions").EnumerateArray().Select(s => s.GetProperty("id").GetString()!)];

    /// <summary>A user with a git credential for the dev git server, and a repository.</summary>
    internal async Task<(string UserId, string Secret, string RepositoryUrl)> CreateGitUserAsync()
    {
        var userId = await Admin.CreateUserAsync(NextName("user"));
        var username = NextName("u");
        var token = TestSecrets.NewToken();
        GitServer.AddAccount(new GitAccount(username, token, null));
        await Admin.CreateGitCredentialAsync(userId, GitServer.BaseUrl, username, token);
        var path = $"team/{NextName("repo")}.git";
        await GitServer.CreateRepositoryAsync(path);
        return (userId, token, GitServer.RepositoryUrl(path));
    }

    /// <summary>A signed xares.claim label value and the workspace it creates, as a platform gets them: `xares-broker docker claim`.</summary>
    internal async Task<(string Label, string WorkspaceId)> SignClaimAsync(string userId, string name)
    {
        var result = await ProcessRunner.RunAsync(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [Artifacts.BrokerDll, "docker", "claim", "--user", userId, "--name", name, "--key-file", ClaimKeyFile],
            ProcessRunner.BaseEnvironment(Directory.Sub("claim-home")), Path.Combine(Directory.Logs, "claims.log")).ShouldSucceedAsync();
        var workspaceId = System.Text.RegularExpressions.Regex.Match(result.Stderr, "ws_[0-9a-f]{32}").Value;
        return (result.Stdout.Trim(), workspaceId);
    }

    /// <summary>The key the fixture's broker verifies xares.claim labels with.</summary>
    internal string ClaimKeyFile => Path.Combine(Directory.Path, "claim.key");

    internal async Task<string> CreateWorkspaceAsync(string userId) =>
        (await Admin.CreateWorkspaceAsync(userId, NextName("w"))).Id;

    internal async Task<IReadOnlyList<JsonElement>> AuditAsync(string action) => await Admin.QueryAuditAsync(action: action);

    public async Task InitializeAsync()
    {
        Engine = await DockerEngine.ConnectAsync(Path.Combine(Directory.Logs, "docker.log"));
        Image = await Engine.BuildImagesAsync();
        await StartMoreEnginesAsync();
        GitServer = await GitHttpServer.StartAsync(new GitHttpServerOptions { RepositoriesRoot = Directory.Sub("git") });
        await File.WriteAllTextAsync(ClaimKeyFile, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        Broker = await BrokerProcess.StartAsync(Directory, [.. DockerArguments(), "--docker-claim-key-file", ClaimKeyFile]);
        Admin = new AdminClient(Broker.RestUrl, Broker.AdminKey);
    }

    /// <summary>Engines besides <see cref="Engine"/>, started before the broker.</summary>
    private protected virtual Task StartMoreEnginesAsync() => Task.CompletedTask;

    /// <summary>The broker's --docker options.</summary>
    private protected virtual string[] DockerArguments() => ["--docker", Engine.Endpoint];

    public async Task DisposeAsync()
    {
        foreach (var group in containers.GroupBy(c => c.Engine))
        {
            await group.Key.DockerAsync(["rm", "-f", .. group.Select(c => c.Id)]);
        }
        Admin?.Dispose();
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }
        if (GitServer is not null)
        {
            await GitServer.DisposeAsync();
        }
        Directory.Dispose();
    }
}
