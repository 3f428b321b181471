using Xares.EndToEnd.Tests.Infrastructure;
using Xares.EndToEnd.Tests.Providers;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// The real AI CLIs (installed from npm by scripts/setup-node-sdks.sh, versions pinned in
/// tests/EndToEnd.Tests/node/package.json) in their one-shot mode, started the way docs/ai-tools.md
/// says: `xares-sidecar run --tool NAME -- …` in proxy mode, from a fresh HOME, with a credential
/// whose baseUrl is a local stand-in for the provider. Each prints the stand-in's answer; the
/// stand-in saw the real key; the key is in no environment of the run's processes, in no output and
/// in no file.
/// </summary>
public sealed class AiCliTests(AiFixture fixture) : IClassFixture<AiFixture>
{
    private const string Placeholder = "xares-placeholder-";
    private static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ClaudeCode_Print_AnswerThroughProxy()
    {
        var user = await fixture.CreateUserAsync();

        var run = await RunCliAsync(user.UserId, "claude", [AiFixture.CliPath("claude"), "-p", "Say hello"],
            new() { ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1", ["DISABLE_AUTOUPDATER"] = "1" });

        Assert.Contains(string.Concat(AnthropicServer.StreamedWords), run.Result.Stdout, StringComparison.Ordinal);
        AssertKeyOnlyAtProvider(run, user.AnthropicKey!, fixture.Anthropic, "/v1/messages?beta=true");
    }

    [Fact]
    public async Task CodexCli_Exec_AnswerThroughProxy()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);

        var answersBefore = fixture.OpenAi.SocketAnswers;

        var run = await RunCliAsync(user.UserId, "codex", [AiFixture.CliPath("codex"), "exec", "--skip-git-repo-check", "Say hello"], []);

        Assert.Contains(OpenAiServer.ResponsesAnswer, run.Result.Stdout, StringComparison.Ordinal);
        AssertKeyOnlyAtProvider(run, user.OpenAiKey, fixture.OpenAi, "/v1/responses");
        // The answer came over the Responses WebSocket, relayed by the proxy: the upstream handshake
        // carried the real key, and Codex never fell back to HTTP; no plain GET ever carried the key.
        var calls = fixture.OpenAi.Calls.Where(c => c.PresentedKey == user.OpenAiKey).ToList();
        Assert.Contains(calls, c => c.WebSocket && c.Accepted && c.Method == "GET" && c.PathAndQuery == "/v1/responses");
        Assert.DoesNotContain(calls, c => c.Method == "GET" && !c.WebSocket);
        Assert.DoesNotContain(calls, c => c.Method == "POST" && c.PathAndQuery == "/v1/responses");
        Assert.True(fixture.OpenAi.SocketAnswers > answersBefore, "no response was answered over the WebSocket");
        // Counted as over HTTP: the tokens of the turn's response.completed (reported in the background: poll briefly).
        System.Text.Json.JsonElement usage = default;
        var counted = await Poll.UntilAsync(async () =>
        {
            usage = (await fixture.GetCredentialAsync(user.OpenAiCredentialId)).GetProperty("usage");
            return usage.GetProperty("inputTokens").GetInt64() >= 12 && usage.GetProperty("outputTokens").GetInt64() >= 6;
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100));
        Assert.True(counted, "the WebSocket turn's tokens were not counted: " + usage.GetRawText());
        // Codex reads CODEX_API_KEY; run also set the base URL (-c openai_base_url=…, no secret).
        Assert.Contains(run.Environs, e => e.Contains("CODEX_API_KEY=" + Placeholder, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CodexCli_ProviderWithoutWebSocketMode_FallsBackToStreamedPost()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        fixture.OpenAi.OffersWebSocket = false;
        CliRun run;
        try
        {
            run = await RunCliAsync(user.UserId, "codex", [AiFixture.CliPath("codex"), "exec", "--skip-git-repo-check", "Say hello"], []);
        }
        finally
        {
            fixture.OpenAi.OffersWebSocket = true;
        }

        Assert.Contains(OpenAiServer.ResponsesAnswer, run.Result.Stdout, StringComparison.Ordinal);
        AssertKeyOnlyAtProvider(run, user.OpenAiKey, fixture.OpenAi, "/v1/responses");
        // The provider's 426 reached Codex through the proxy, and Codex posted instead.
        var calls = fixture.OpenAi.Calls.Where(c => c.PresentedKey == user.OpenAiKey).ToList();
        Assert.Contains(calls, c => c.WebSocket && c.PathAndQuery == "/v1/responses");
        Assert.Contains(calls, c => c.Accepted && c.Method == "POST" && c.PathAndQuery == "/v1/responses");
        Assert.DoesNotContain(calls, c => c.Method == "GET" && !c.WebSocket);
    }

    [Fact]
    public async Task OpenCode_Run_AnswerThroughProxy()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);

        // Its AI SDK reads OPENAI_BASE_URL itself; the switches keep a fresh install from going online.
        var run = await RunCliAsync(user.UserId, "opencode", [AiFixture.CliPath("opencode"), "run", "--model", "openai/gpt-4.1", "Say hello"], new()
        {
            ["OPENCODE_DISABLE_AUTOUPDATE"] = "1", ["OPENCODE_DISABLE_MODELS_FETCH"] = "1", ["OPENCODE_DISABLE_DEFAULT_PLUGINS"] = "1",
            ["OPENCODE_DISABLE_LSP_DOWNLOAD"] = "1", ["OPENCODE_DISABLE_SHARE"] = "1",
        });

        Assert.Contains(OpenAiServer.ResponsesAnswer, run.Result.Stdout, StringComparison.Ordinal);
        AssertKeyOnlyAtProvider(run, user.OpenAiKey, fixture.OpenAi, "/v1/responses");
    }

    [Fact]
    public async Task GeminiCli_Prompt_AnswerThroughProxy()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        var key = "AIza" + TestSecrets.NewToken();
        fixture.Gemini.AcceptKey(key);
        await fixture.AddAiCredentialAsync(user.UserId, "google", key, fixture.Gemini.BaseUrl, null);

        // From an empty HOME: run supplies Gemini CLI's auth choice itself (a temporary GEMINI_CLI_HOME, no secret in it).
        var run = await RunCliAsync(user.UserId, "gemini", [AiFixture.CliPath("gemini"), "--skip-trust", "-p", "Say hello"], []);

        Assert.Contains(string.Concat(GeminiServer.StreamedWords), run.Result.Stdout, StringComparison.Ordinal);
        AssertKeyOnlyAtProvider(run, key, fixture.Gemini, ":streamGenerateContent?alt=sse");
        Assert.False(Directory.Exists(Path.Combine(run.Home, ".gemini")), "run must not write the user's ~/.gemini");
        var geminiHome = run.Environs.Select(e => e.Split('\0').FirstOrDefault(v => v.StartsWith("GEMINI_CLI_HOME=", StringComparison.Ordinal)))
            .FirstOrDefault(v => v is not null);
        Assert.NotNull(geminiHome);
        Assert.False(Directory.Exists(geminiHome["GEMINI_CLI_HOME=".Length..]), "the temporary Gemini home outlived the run");
    }

    private sealed record CliRun(CommandResult Result, IReadOnlyList<string> Environs, string Home, DateTime Started);

    private async Task<CliRun> RunCliAsync(string userId, string tool, string[] command, Dictionary<string, string> extra)
    {
        var started = DateTime.UtcNow;
        await using var sidecar = await fixture.StartSidecarAsync(userId);
        var home = fixture.Directory.Sub(fixture.NextName("cli-home-"));
        var project = fixture.Directory.Sub(fixture.NextName("cli-project-"));
        // Every tool starts from an empty HOME: nothing written for it beforehand.
        Assert.Empty(Directory.EnumerateFileSystemEntries(home));
        var environment = ProcessRunner.BaseEnvironment(home);
        environment["XARES_SIDECAR_SOCKET"] = sidecar.SocketPath;
        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }
        await using var scanner = ToolEnvironScanner.Start(home);
        var result = await ProcessRunner.RunAsync(Artifacts.Sidecar, ["run", "--tool", tool, "--", .. command], environment,
            Path.Combine(fixture.Directory.Logs, $"ai-{tool}.log"), workingDirectory: project, timeout: CliTimeout);
        var environs = await scanner.StopAsync();
        Assert.True(result.ExitCode == 0, result.ToString());
        return new CliRun(result, environs, home, started);
    }

    private void AssertKeyOnlyAtProvider(CliRun run, string key, ProviderServer server, string pathEnd)
    {
        Assert.Contains(server.Calls, c => c.Accepted && c.PresentedKey == key && c.PathAndQuery.EndsWith(pathEnd, StringComparison.Ordinal));
        Assert.DoesNotContain(server.Calls, c => c.PresentedKey?.StartsWith(Placeholder, StringComparison.Ordinal) == true);
        // The tool was seen (its environment holds the placeholder), and no process of the run held the key.
        Assert.Contains(run.Environs, e => e.Contains(Placeholder, StringComparison.Ordinal));
        Assert.DoesNotContain(run.Environs, e => e.Contains(key, StringComparison.Ordinal));
        Assert.DoesNotContain(key, run.Result.Stdout + run.Result.Stderr, StringComparison.Ordinal);
        Assert.Empty(SecretScanner.FindFilesContaining(key, [run.Home]));
        fixture.AssertSecretOnNoDisk(key, run.Started);
    }
}
