using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Docker;

/// <summary>
/// The real Docker engine the tests drive: XARES_TEST_DOCKER, or the private dockerd that
/// scripts/setup-docker.sh runs (started here when it is not running yet). Every docker CLI call
/// goes to that engine only (DOCKER_HOST), never to a system socket.
/// </summary>
internal sealed class DockerEngine
{
    private static readonly string Cli = File.Exists("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

    private readonly string logFile;
    private readonly Dictionary<string, string>? scriptEnvironment;

    private DockerEngine(string endpoint, bool owned, string logFile, Dictionary<string, string>? scriptEnvironment = null)
    {
        Endpoint = endpoint;
        Owned = owned;
        this.logFile = logFile;
        this.scriptEnvironment = scriptEnvironment;
    }

    /// <summary>unix:///…/docker.sock</summary>
    public string Endpoint { get; }

    /// <summary>True when the engine is the one scripts/setup-docker.sh runs (so a test may restart it).</summary>
    public bool Owned { get; }

    public static Task<DockerEngine> ConnectAsync(string logFile) => ConnectAsync(logFile, "XARES_TEST_DOCKER", null);

    /// <summary>A second engine beside the first (tests of several engines): XARES_TEST_DOCKER2, or scripts/setup-docker.sh's under /tmp/xares-docker2.</summary>
    public static Task<DockerEngine> ConnectSecondAsync(string logFile) => ConnectAsync(logFile, "XARES_TEST_DOCKER2", SecondDirectory);

    public const string SecondDirectory = "/tmp/xares-docker2";

    private static async Task<DockerEngine> ConnectAsync(string logFile, string variable, string? directory)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } given)
        {
            return new DockerEngine(given, owned: false, logFile);
        }
        Dictionary<string, string>? environment = directory is null ? null : new() { ["XARES_DOCKER_DIR"] = directory };
        var start = await RunScriptAsync("scripts/setup-docker.sh", ["start"], logFile, TimeSpan.FromMinutes(5), environment);
        if (!start.Succeeded)
        {
            throw new InvalidOperationException(
                $"No Docker engine: scripts/setup-docker.sh start failed (see {directory ?? "/tmp/xares-docker"}/dockerd.log). " +
                $"These tests need a real dockerd; set {variable}=unix:///path/docker.sock to use another one.\n" + start);
        }
        return new DockerEngine(start.Stdout.Trim().Split('\n')[^1].Trim(), owned: true, logFile, environment);
    }

    /// <summary>Stops and starts the private engine (its containers stop with it).</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await RunScriptAsync("scripts/setup-docker.sh", ["start"], logFile, TimeSpan.FromMinutes(2), scriptEnvironment).ShouldSucceedAsync();
    }

    public async Task StopAsync() =>
        await RunScriptAsync("scripts/setup-docker.sh", ["stop"], logFile, TimeSpan.FromMinutes(1), scriptEnvironment).ShouldSucceedAsync();

    /// <summary>
    /// A private engine under <paramref name="directory"/> that also listens on tcp://127.0.0.1:<paramref name="port"/>
    /// with --tlsverify, its ca.pem, server.pem and server-key.pem in <paramref name="directory"/>/tls.
    /// </summary>
    public static async Task<DockerEngine> StartWithTlsAsync(string logFile, string directory, int port)
    {
        var environment = new Dictionary<string, string> { ["XARES_DOCKER_DIR"] = directory, ["XARES_DOCKER_TLS_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var start = await RunScriptAsync("scripts/setup-docker.sh", ["start"], logFile, TimeSpan.FromMinutes(5), environment).ShouldSucceedAsync();
        return new DockerEngine(start.Stdout.Trim().Split('\n')[^1].Trim(), owned: true, logFile, environment);
    }

    /// <summary>Builds (or reuses) the offline test images; returns the workspace image name.</summary>
    public async Task<string> BuildImagesAsync()
    {
        var artifacts = Path.GetDirectoryName(Path.GetDirectoryName(Artifacts.Sidecar)!)!;
        var result = await RunScriptAsync("docker/build-test-images.sh", [], logFile, TimeSpan.FromMinutes(5),
            new() { ["DOCKER_HOST"] = Endpoint, ["XARES_ARTIFACTS"] = artifacts });
        Assert.True(result.Succeeded, "Building the test images failed:\n" + result);
        return result.Stdout.Trim().Split('\n')[^1].Trim();
    }

    /// <summary>Builds <paramref name="contextDirectory"/> (its Dockerfile) as <paramref name="tag"/> with the classic builder (offline).</summary>
    public async Task BuildAsync(string tag, string contextDirectory)
    {
        var environment = CliEnvironment();
        environment["DOCKER_BUILDKIT"] = "0";
        await ProcessRunner.RunAsync(Cli, ["build", "-q", "-t", tag, contextDirectory], environment, logFile, timeout: TimeSpan.FromMinutes(2))
            .ShouldSucceedAsync();
    }

    public Task<CommandResult> DockerAsync(params string[] arguments) =>
        ProcessRunner.RunAsync(Cli, arguments, CliEnvironment(), logFile, timeout: TimeSpan.FromSeconds(60));

    /// <summary>docker … that must succeed; its trimmed stdout.</summary>
    public async Task<string> DockerOkAsync(params string[] arguments) =>
        (await DockerAsync(arguments).ShouldSucceedAsync()).Stdout.Trim();

    private Dictionary<string, string> CliEnvironment()
    {
        var environment = ProcessRunner.BaseEnvironment("/tmp");
        environment["DOCKER_HOST"] = Endpoint;
        return environment;
    }

    private static Task<CommandResult> RunScriptAsync(string script, string[] arguments, string logFile, TimeSpan timeout,
        Dictionary<string, string>? extra = null)
    {
        var root = RepositoryRoot();
        var environment = ProcessRunner.BaseEnvironment("/root");
        foreach (var name in new[] { "XARES_DOCKER_DIR", "XARES_DOCKER_STORAGE_DRIVER" })
        {
            if (System.Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                environment[name] = value;
            }
        }
        foreach (var (name, value) in extra ?? [])
        {
            environment[name] = value;
        }
        return ProcessRunner.RunAsync("/bin/bash", [Path.Combine(root, script), .. arguments], environment, logFile, root, timeout: timeout);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Xares.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("No Xares.sln above " + AppContext.BaseDirectory);
    }
}
