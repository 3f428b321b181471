using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// `xares-sidecar run --mode inject`, `xares-sidecar env`, pass-through of exit codes and stdin, and
/// bad input (unknown tool, no credential, broker or sidecar down): a clear error, never a hang.
/// </summary>
[Collection(DeadlineCollection.Name)]
public sealed class AiRunTests(AiFixture fixture) : IClassFixture<AiFixture>
{
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Inject_BothSdks_RealKeyInEnvironmentAndMaskedInOutput()
    {
        var user = await fixture.CreateUserAsync(delivery: "any");
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);

        var openAi = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--mode", "inject", "--", "node", "openai-client.mjs", "chat"]).ShouldSucceedAsync();
        var anthropic = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--mode", "inject", "--tool", "claude", "--", "node", "anthropic-client.mjs", "message"]).ShouldSucceedAsync();

        var openAiReport = AiNodeReport.Parse(openAi);
        Assert.Null(openAiReport.Error);
        // The tool printed its key; stdout is a pipe, so run masked it.
        Assert.Equal("***", openAiReport.ApiKey);
        Assert.Contains(user.OpenAiKey, openAiReport.Environ, StringComparison.Ordinal);
        // The credential names a non-default base URL, so inject sets the base-URL variable too.
        Assert.Equal(fixture.OpenAi.BaseUrl, openAiReport.BaseUrl);
        Assert.Equal("***", AiNodeReport.Parse(anthropic).ApiKey);
        Assert.DoesNotContain(user.OpenAiKey, openAi.Stdout + openAi.Stderr, StringComparison.Ordinal);
        Assert.Contains(fixture.OpenAi.Calls, c => c.Accepted && c.PresentedKey == user.OpenAiKey);
        Assert.Contains(fixture.Anthropic.Calls, c => c.Accepted && c.PresentedKey == user.AnthropicKey);
    }

    [Fact]
    public async Task Env_Bash_PrintsExportsOfRealKeys()
    {
        var user = await fixture.CreateUserAsync(delivery: "any");
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);

        var result = await fixture.SidecarCliAsync(sidecar.SocketPath, ["env", "--shell", "bash"]).ShouldSucceedAsync();

        Assert.Contains($"export OPENAI_API_KEY='{user.OpenAiKey}';", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"export ANTHROPIC_API_KEY='{user.AnthropicKey}';", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"export OPENAI_BASE_URL='{fixture.OpenAi.BaseUrl}';", result.Stdout, StringComparison.Ordinal);
        // eval'd by a real shell, the key lands in the environment of what it runs.
        var evaluated = await ProcessRunner.RunAsync("bash", ["-c", "eval \"$(cat)\"; test \"$OPENAI_API_KEY\" = \"$1\" && echo same", "_", user.OpenAiKey],
            fixture.RunEnvironment(sidecar.SocketPath), null, stdin: result.Stdout);
        Assert.Equal("same", evaluated.Stdout.Trim());
    }

    [Fact]
    public async Task InjectAndEnv_ProxyOnlyCredential_ClearErrorNoKey()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);

        var inject = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--mode", "inject", "--", "sh", "-c", "echo ran"]).ShouldFailAsync();
        var env = await fixture.SidecarCliAsync(sidecar.SocketPath, ["env", "--shell", "bash"]).ShouldFailAsync();
        var proxied = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--", "sh", "-c", "echo ran"]).ShouldSucceedAsync();

        foreach (var result in new[] { inject, env })
        {
            Assert.StartsWith("xares: ", result.Stderr);
            Assert.Contains($"credential {user.OpenAiCredentialId} is proxy-only", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("xares-sidecar run", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(user.OpenAiKey, result.Stdout + result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("ran", result.Stdout, StringComparison.Ordinal);
        }
        Assert.Equal("ran", proxied.Stdout.Trim());
    }

    [Fact]
    public async Task Env_NoToolWithProxyOnlyAndAnyCredential_PrintsOnlyTheAnyOne()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        var anthropicKey = "sk-ant-" + TestSecrets.NewToken();
        await fixture.AddAiCredentialAsync(user.UserId, "anthropic", anthropicKey, fixture.Anthropic.BaseUrl, null, delivery: "any");
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);

        var env = await fixture.SidecarCliAsync(sidecar.SocketPath, ["env", "--shell", "bash"]).ShouldSucceedAsync();

        Assert.Contains("export ANTHROPIC_API_KEY=", env.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("OPENAI_API_KEY", env.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(user.OpenAiKey, env.Stdout + env.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ExitCodeSignalAndStdin_PassThrough()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);

        var exit = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--", "sh", "-c", "exit 7"]);
        var killed = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--", "sh", "-c", "kill -TERM $$"]);
        var echoed = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--", "cat"], stdin: "hello through run\n");
        var forwarded = await fixture.SidecarCliAsync(sidecar.SocketPath,
            ["run", "--", "sh", "-c", "trap 'echo got-term; exit 3' TERM; kill -TERM $PPID; sleep 5 & wait"]);

        Assert.Equal(7, exit.ExitCode);
        Assert.Equal(128 + 15, killed.ExitCode);
        Assert.Equal("hello through run\n", echoed.Stdout);
        Assert.Equal(3, forwarded.ExitCode);
        Assert.Contains("got-term", forwarded.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnknownTool_ClearErrorNonZero()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);

        var result = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--tool", "notepad", "--", "true"]).ShouldFailAsync();

        Assert.StartsWith("xares: unknown tool notepad; known tools: aider, claude, codex, continue, gemini, opencode", result.Stderr);
        Assert.True(result.Elapsed < Bounded, result.ToString());
    }

    [Fact]
    public async Task Run_NoCredentialForToolsProvider_ClearErrorNonZero()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);

        var claude = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--tool", "claude", "--", "true"]).ShouldFailAsync();
        var gemini = await fixture.SidecarCliAsync(sidecar.SocketPath, ["env", "--tool", "gemini", "--shell", "fish"]).ShouldFailAsync();

        Assert.StartsWith("xares: no AI credential for tool claude: it uses anthropic", claude.Stderr);
        Assert.StartsWith("xares: no AI credential for tool gemini: it uses google", gemini.Stderr);
        Assert.Empty(gemini.Stdout);
    }

    [Fact]
    public async Task Run_BrokerDown_ClearErrorInBoundedTime()
    {
        await fixture.EnsureBrokerRunningAsync();
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);
        try
        {
            await fixture.Broker.KillAsync();

            var proxy = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--", "true"], timeout: TimeSpan.FromSeconds(20)).ShouldFailAsync();
            var inject = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--mode", "inject", "--", "true"], timeout: TimeSpan.FromSeconds(20)).ShouldFailAsync();

            foreach (var result in new[] { proxy, inject })
            {
                Assert.StartsWith("xares: ", result.Stderr);
                Assert.Contains("broker", result.Stderr, StringComparison.OrdinalIgnoreCase);
                Assert.True(result.Elapsed < Bounded, result.ToString());
            }
        }
        finally
        {
            await fixture.Broker.RestartAsync();
        }
    }

    [Fact]
    public async Task Run_SidecarNotRunning_ClearErrorInBoundedTime()
    {
        var result = await fixture.SidecarCliAsync(Path.Combine(fixture.Directory.Path, "none", "sidecar.sock"), ["run", "--", "true"]).ShouldFailAsync();

        Assert.StartsWith("xares: the sidecar is not reachable at ", result.Stderr);
        Assert.True(result.Elapsed < Bounded, result.ToString());
    }
}
