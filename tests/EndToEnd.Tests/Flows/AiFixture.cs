using System.Text.Json;
using Xares.EndToEnd.Tests.Infrastructure;
using Xares.EndToEnd.Tests.Providers;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>A user's AI keys as stored in the broker (and accepted by the provider servers).</summary>
internal sealed record AiUser(string UserId, string OpenAiKey, string OpenAiCredentialId, string? AnthropicKey, string? AnthropicCredentialId);

/// <summary>
/// One broker plus local OpenAI, Anthropic and Gemini API servers per test class; users, workspaces and
/// sidecars per test. Every file written lives under <see cref="Directory"/>.
/// </summary>
public sealed class AiFixture : IAsyncLifetime
{
    private int _counter;

    internal ScratchDirectory Directory { get; } = ScratchDirectory.Create("xa-");

    internal BrokerProcess Broker { get; private set; } = null!;

    internal AdminClient Admin { get; private set; } = null!;

    internal OpenAiServer OpenAi { get; private set; } = null!;

    internal AnthropicServer Anthropic { get; private set; } = null!;

    internal GeminiServer Gemini { get; private set; } = null!;

    /// <summary>The folder holding the node SDK scripts and their node_modules (scripts/setup-node-sdks.sh).</summary>
    internal static string NodeDirectory { get; } = FindNodeDirectory();

    internal string NextName(string prefix) => $"{prefix}{Interlocked.Increment(ref _counter)}";

    /// <summary>A user with an OpenAI key (at <paramref name="openAi"/>, default the shared server) and, unless told not to, an Anthropic key.</summary>
    /// <param name="delivery">"proxy" or "any" for both credentials; null: the broker's default (proxy-only).</param>
    internal async Task<AiUser> CreateUserAsync(bool withAnthropic = true, OpenAiServer? openAi = null, long? monthlyLimit = null, string? delivery = null)
    {
        var userId = await Admin.CreateUserAsync(NextName("aiuser"));
        var server = openAi ?? OpenAi;
        var openAiKey = NewKey("sk-");
        server.AcceptKey(openAiKey);
        var openAiId = await AddAiCredentialAsync(userId, "openai", openAiKey, server.BaseUrl, monthlyLimit, delivery);
        if (!withAnthropic)
        {
            return new AiUser(userId, openAiKey, openAiId, null, null);
        }
        var anthropicKey = NewKey("sk-ant-");
        Anthropic.AcceptKey(anthropicKey);
        var anthropicId = await AddAiCredentialAsync(userId, "anthropic", anthropicKey, Anthropic.BaseUrl, null, delivery);
        return new AiUser(userId, openAiKey, openAiId, anthropicKey, anthropicId);
    }

    internal async Task<string> AddAiCredentialAsync(string userId, string provider, string secret, string baseUrl, long? monthlyLimit, string? delivery = null)
    {
        var created = await Admin.SendAsync(HttpMethod.Post, $"api/v1/users/{userId}/credentials",
            new { kind = "ai", provider, secret, baseUrl, monthlyLimit, delivery });
        return AdminClient.IdOf(created);
    }

    /// <summary>Rotates a credential's secret through REST (PATCH), as an admin would.</summary>
    internal Task RotateAsync(string credentialId, string newSecret) =>
        Admin.SendAsync(HttpMethod.Patch, $"api/v1/credentials/{credentialId}", new { secret = newSecret });

    internal async Task<JsonElement> GetCredentialAsync(string credentialId) =>
        await Admin.SendAsync(HttpMethod.Get, $"api/v1/credentials/{credentialId}");

    /// <summary>The npm-installed executable of an AI CLI (claude, codex, gemini, opencode).</summary>
    internal static string CliPath(string name) => Path.Combine(NodeDirectory, "node_modules", ".bin", name);

    /// <summary>Registers a workspace for the user and starts its sidecar (connected).</summary>
    internal async Task<SidecarProcess> StartSidecarAsync(string userId)
    {
        var name = NextName("w");
        var grant = await Admin.CreateWorkspaceAsync(userId, name);
        return await SidecarProcess.StartAsync(Directory, Broker.GrpcUrl, grant.BootstrapToken, name + "-sc");
    }

    /// <summary>The environment `xares-sidecar run` starts from in these tests.</summary>
    internal Dictionary<string, string> RunEnvironment(string socketPath)
    {
        var environment = ProcessRunner.BaseEnvironment(Directory.Sub("home"));
        environment["XARES_SIDECAR_SOCKET"] = socketPath;
        return environment;
    }

    /// <summary>Runs <c>xares-sidecar run|env ARGS</c> against a sidecar, bounded in time.</summary>
    internal Task<CommandResult> SidecarCliAsync(string socketPath, IEnumerable<string> arguments, string? stdin = null, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync(Artifacts.Sidecar, arguments, RunEnvironment(socketPath), Path.Combine(Directory.Logs, "ai-cli.log"),
            workingDirectory: NodeDirectory, stdin: stdin, timeout: timeout ?? TimeSpan.FromSeconds(30));

    /// <summary>Fails if the secret is in any file under this fixture's folder, or in a temp file written since <paramref name="sinceUtc"/>.</summary>
    internal void AssertSecretOnNoDisk(string secret, DateTime sinceUtc)
    {
        var tempRoots = new[] { "/tmp", Path.GetTempPath() }.Select(p => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p))).Distinct();
        var hits = SecretScanner.FindFilesContaining(secret, [Directory.Path])
            .Concat(SecretScanner.FindFilesContaining(secret, tempRoots, sinceUtc))
            .Distinct()
            .ToList();
        Assert.True(hits.Count == 0, "Secret found in:\n" + string.Join('\n', hits));
    }

    internal async Task EnsureBrokerRunningAsync()
    {
        if (!Broker.IsRunning)
        {
            await Broker.RestartAsync();
        }
    }

    private static string NewKey(string prefix) => prefix + TestSecrets.NewToken();

    private static string FindNodeDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Xares.sln")))
            {
                return Path.Combine(dir.FullName, "tests", "EndToEnd.Tests", "node");
            }
        }
        throw new DirectoryNotFoundException("No Xares.sln above the test binaries");
    }

    public async Task InitializeAsync()
    {
        if (!System.IO.Directory.Exists(Path.Combine(NodeDirectory, "node_modules", "openai")) || !File.Exists(CliPath("codex")))
        {
            throw new InvalidOperationException($"The node SDKs and AI CLIs are not installed in {NodeDirectory}: run scripts/setup-node-sdks.sh (scripts/test.sh does).");
        }
        OpenAi = await OpenAiServer.StartNewAsync();
        Anthropic = await AnthropicServer.StartNewAsync();
        Gemini = await GeminiServer.StartNewAsync();
        Broker = await BrokerProcess.StartAsync(Directory);
        Admin = Broker.CreateAdminClient();
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }
        if (OpenAi is not null)
        {
            await OpenAi.DisposeAsync();
        }
        if (Anthropic is not null)
        {
            await Anthropic.DisposeAsync();
        }
        if (Gemini is not null)
        {
            await Gemini.DisposeAsync();
        }
        Directory.Dispose();
    }
}
