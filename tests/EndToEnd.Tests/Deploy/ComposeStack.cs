using System.Security.Cryptography;
using Xares.EndToEnd.Tests.Docker;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Deploy;

/// <summary>
/// deploy/compose/docker-compose.yml run by Debian's docker-compose against the private engine,
/// with the offline-built images (build-images.sh), secrets written the way its README says,
/// and free loopback ports (every service uses the host's network).
/// </summary>
internal sealed class ComposeStack : IAsyncDisposable
{
    private const string Cli = "/usr/bin/docker-compose";

    private readonly Dictionary<string, string> environment;
    private readonly string composeFile;
    private readonly string logFile;

    private ComposeStack(DockerEngine engine, ScratchDirectory directory, Dictionary<string, string> environment)
    {
        Engine = engine;
        this.environment = environment;
        composeFile = Path.Combine(Artifacts.RepositoryRoot, "deploy", "compose", "docker-compose.yml");
        logFile = Path.Combine(directory.Logs, "compose.log");
    }

    public DockerEngine Engine { get; }

    public int GitPort => int.Parse(environment["XARES_GIT_PORT"]);

    public string RestUrl(string broker) => $"http://127.0.0.1:{environment[broker == "broker-a" ? "XARES_A_REST_PORT" : "XARES_B_REST_PORT"]}";

    /// <summary>The git server's accounts file holds these two users; their tokens are the secrets below.</summary>
    public (string User, string Token)[] GitAccounts { get; } = [("alice", TestSecrets.NewToken()), ("alice2", TestSecrets.NewToken())];

    public static async Task<ComposeStack> CreateAsync(ScratchDirectory directory)
    {
        Assert.True(File.Exists(Cli), $"{Cli} is missing: scripts/setup-docker.sh start installs Debian's docker-compose.");
        var engine = await DockerEngine.ConnectAsync(Path.Combine(directory.Logs, "docker.log"));
        var socket = engine.Endpoint["unix://".Length..];
        var secrets = directory.Sub("secrets");
        var environment = ProcessRunner.BaseEnvironment(directory.Sub("home"));
        environment["DOCKER_HOST"] = engine.Endpoint;
        environment["COMPOSE_PROJECT_NAME"] = "xares-deploy-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        environment["XARES_SECRETS_DIR"] = secrets;
        environment["XARES_DOCKER_SOCKET"] = socket;
        environment["XARES_DOCKER_GID"] = (await ProcessRunner.RunAsync("stat", ["-c", "%g", socket], environment, null).ShouldSucceedAsync()).Stdout.Trim();
        foreach (var port in new[] { "XARES_PG_PORT", "XARES_A_REST_PORT", "XARES_A_GRPC_PORT", "XARES_B_REST_PORT", "XARES_B_GRPC_PORT", "XARES_GIT_PORT" })
        {
            environment[port] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        foreach (var (variable, image) in new[] { ("XARES_BROKER_IMAGE", "broker"), ("XARES_POSTGRES_IMAGE", "postgres"), ("XARES_GIT_SERVER_IMAGE", "dev-git-server"), ("XARES_WORKSPACE_IMAGE", "workspace") })
        {
            environment[variable] = "xares-test/" + image;
        }
        var stack = new ComposeStack(engine, directory, environment);
        await stack.BuildImagesAsync();
        await stack.WriteSecretsAsync(secrets);
        return stack;
    }

    public Task<CommandResult> ComposeAsync(params string[] arguments) =>
        ProcessRunner.RunAsync(Cli, ["-f", composeFile, .. arguments], environment, logFile, timeout: TimeSpan.FromMinutes(3));

    /// <summary>Starts the workspace service's container for a registered workspace (from then on every command sees its profile).</summary>
    public Task<CommandResult> StartWorkspaceAsync(string workspaceId)
    {
        environment["XARES_WORKSPACE_ID"] = workspaceId;
        environment["COMPOSE_PROFILES"] = "workspace";
        return ComposeAsync("up", "-d", "workspace");
    }

    /// <summary>Runs a command in a service's container (no tty, git never prompts).</summary>
    public Task<CommandResult> ExecAsync(string service, params string[] command) =>
        ComposeAsync(["exec", "-T", "-e", "GIT_TERMINAL_PROMPT=0", service, .. command]);

    /// <summary>The id of the service's container.</summary>
    public async Task<string> ContainerAsync(string service) => (await ComposeAsync("ps", "-q", service).ShouldSucceedAsync()).Stdout.Trim();

    public async ValueTask DisposeAsync()
    {
        environment["COMPOSE_PROFILES"] = "workspace";
        await ComposeAsync("down", "--volumes", "--remove-orphans", "--timeout", "5");
    }

    private async Task BuildImagesAsync()
    {
        var devGit = Path.Combine(Artifacts.RepositoryRoot, "tools", "DevGitServer", "bin", "Release", "net10.0");
        var script = Path.Combine(Artifacts.RepositoryRoot, "tests", "EndToEnd.Tests", "Deploy", "build-images.sh");
        var build = new Dictionary<string, string>(environment)
        {
            ["XARES_ARTIFACTS"] = Path.GetDirectoryName(Path.GetDirectoryName(Artifacts.BrokerDll)!)!,
            ["XARES_DEVGIT_DIR"] = devGit,
        };
        await ProcessRunner.RunAsync("/bin/bash", [script], build, logFile, Artifacts.RepositoryRoot, timeout: TimeSpan.FromMinutes(8)).ShouldSucceedAsync();
    }

    /// <summary>The compose file's secrets, each readable only by the uid of the service that reads it (README).</summary>
    private async Task WriteSecretsAsync(string secrets)
    {
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var files = new (string Name, string Content, int Owner)[]
        {
            ("master-key", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), 1654),
            ("pgpass", $"127.0.0.1:{environment["XARES_PG_PORT"]}:xares:xares:{password}\n", 1654),
            ("postgres-password", password, 999),
            ("git-accounts.jsonl", string.Concat(GitAccounts.Select(a => $"{{\"username\":\"{a.User}\",\"token\":\"{a.Token}\"}}\n")), 1654),
        };
        foreach (var (name, content, owner) in files)
        {
            var path = Path.Combine(secrets, name);
            await File.WriteAllTextAsync(path, content);
            File.SetUnixFileMode(path, UnixFileMode.UserRead);
            await ProcessRunner.RunAsync("chown", [$"{owner}:{owner}", path], environment, logFile).ShouldSucceedAsync();
        }
    }
}
