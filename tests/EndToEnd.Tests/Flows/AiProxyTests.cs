using System.Diagnostics;
using System.Text.Json;
using Xares.EndToEnd.Tests.Infrastructure;
using Xares.EndToEnd.Tests.Providers;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// `xares-sidecar run` in proxy mode (the default) with the official OpenAI and Anthropic npm SDKs
/// and curl, through the published sidecar and the real broker, against local provider servers
/// that accept only the real keys.
/// </summary>
public sealed class AiProxyTests(AiFixture fixture) : IClassFixture<AiFixture>
{
    private const string Placeholder = "xares-placeholder-";

    [Fact]
    public async Task OpenAiSdk_ChatAndStream_RealKeyReachesProviderButNeverTheTool()
    {
        var started = DateTime.UtcNow;
        var user = await fixture.CreateUserAsync();
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);

        var chat = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--", "node", "openai-client.mjs", "chat"]).ShouldSucceedAsync();
        var stream = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--tool", "codex", "--", "node", "openai-client.mjs", "stream"]).ShouldSucceedAsync();

        foreach (var (result, report) in new[] { (chat, AiNodeReport.Parse(chat)), (stream, AiNodeReport.Parse(stream)) })
        {
            Assert.Null(report.Error);
            Assert.StartsWith(Placeholder, report.ApiKey);
            Assert.StartsWith("http://127.0.0.1:", report.BaseUrl);
            Assert.EndsWith("/v1", report.BaseUrl);
            Assert.DoesNotContain(user.OpenAiKey, report.Environ, StringComparison.Ordinal);
            Assert.DoesNotContain(user.OpenAiKey, result.Stdout + result.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal("Hello from the fake OpenAI", AiNodeReport.Parse(chat).Content);
        AssertIncremental(AiNodeReport.Parse(stream).Chunks, OpenAiServer.StreamedWords, fixture.OpenAi);
        var calls = fixture.OpenAi.Calls.Where(c => c.PresentedKey == user.OpenAiKey).ToList();
        Assert.Equal(2, calls.Count(c => c.Accepted && c.PathAndQuery == "/v1/chat/completions"));
        Assert.DoesNotContain(fixture.OpenAi.Calls, c => c.PresentedKey?.StartsWith(Placeholder, StringComparison.Ordinal) == true);
        fixture.AssertSecretOnNoDisk(user.OpenAiKey, started);
        await AssertUsageCountedAsync(user.OpenAiCredentialId);
    }

    [Fact]
    public async Task AnthropicSdk_MessageAndStream_UnderClaudeTool()
    {
        var started = DateTime.UtcNow;
        var user = await fixture.CreateUserAsync();
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);

        var message = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--tool", "claude", "--", "node", "anthropic-client.mjs", "message"]).ShouldSucceedAsync();
        var stream = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--tool", "claude", "--", "node", "anthropic-client.mjs", "stream"]).ShouldSucceedAsync();

        var messageReport = AiNodeReport.Parse(message);
        Assert.Null(messageReport.Error);
        Assert.Equal("Hello from the fake Anthropic", messageReport.Content);
        Assert.StartsWith(Placeholder, messageReport.ApiKey);
        Assert.DoesNotContain(user.AnthropicKey!, messageReport.Environ, StringComparison.Ordinal);
        // --tool claude offers only Anthropic: no OpenAI variable at all.
        Assert.DoesNotContain("OPENAI_API_KEY=", messageReport.Environ, StringComparison.Ordinal);
        AssertIncremental(AiNodeReport.Parse(stream).Chunks, AnthropicServer.StreamedWords, fixture.Anthropic);
        Assert.Equal(2, fixture.Anthropic.Calls.Count(c => c.Accepted && c.PresentedKey == user.AnthropicKey));
        Assert.DoesNotContain(user.AnthropicKey!, message.Stdout + stream.Stdout + message.Stderr + stream.Stderr, StringComparison.Ordinal);
        fixture.AssertSecretOnNoDisk(user.AnthropicKey!, started);
    }

    [Fact]
    public async Task Curl_WrongPlaceholderForeignHostOrigin_Refused()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);
        const string script = """
            u="$OPENAI_BASE_URL/models"
            code() { curl -s -o /dev/null -w '%{http_code} ' "$@"; }
            code -H "Authorization: Bearer $OPENAI_API_KEY" "$u"
            code -H "Authorization: Bearer xares-placeholder-wrong" "$u"
            code "$u"
            code -H "Authorization: Bearer $OPENAI_API_KEY" -H "Host: attacker.example" "$u"
            code -H "Authorization: Bearer $OPENAI_API_KEY" -H "Origin: http://127.0.0.1" "$u"
            code -X OPTIONS -H "Origin: https://evil.example" -H "Access-Control-Request-Method: POST" "$u"
            curl -s -D - -o /dev/null -H "Origin: https://evil.example" -H "Authorization: Bearer $OPENAI_API_KEY" "$u" | grep -ci '^access-control-' || true
            """;

        var result = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--", "sh", "-c", script]).ShouldSucceedAsync();

        var words = result.Stdout.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["200", "401", "401", "403", "403", "403", "0"], words);
        Assert.Single(fixture.OpenAi.Calls, c => c.PresentedKey == user.OpenAiKey);
    }

    [Fact]
    public async Task UpstreamRedirect_PassedBack_KeyNeverReachesTarget()
    {
        await using var trap = await OpenAiServer.StartNewAsync();
        await using var redirecting = await OpenAiServer.StartNewAsync();
        redirecting.RedirectTo = trap.BaseUrl + "/models";
        var user = await fixture.CreateUserAsync(withAnthropic: false, openAi: redirecting);
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);
        // --location-trusted: curl even re-sends its Authorization header to the redirect target.
        const string script = """
            curl -s -o /dev/null -w '%{http_code} ' -H "Authorization: Bearer $OPENAI_API_KEY" "$OPENAI_BASE_URL/models"
            curl -s -o /dev/null -w '%{http_code}' -L --location-trusted -H "Authorization: Bearer $OPENAI_API_KEY" "$OPENAI_BASE_URL/models"
            """;

        var result = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--", "sh", "-c", script]).ShouldSucceedAsync();

        Assert.Equal("302 401", result.Stdout.Trim());
        Assert.Equal(2, redirecting.Calls.Count(c => c.PresentedKey == user.OpenAiKey));
        Assert.NotEmpty(trap.Calls);
        Assert.DoesNotContain(trap.Calls, c => c.PresentedKey == user.OpenAiKey);
    }

    [Fact]
    public async Task RotatedKey_UsedOnNextCall_WithoutRestartingTheTool()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false);
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);
        var info = new ProcessStartInfo(Artifacts.Sidecar)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = AiFixture.NodeDirectory,
        };
        foreach (var argument in new[] { "run", "--", "node", "openai-client.mjs", "wait-then-chat" })
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment.Clear();
        foreach (var (name, value) in fixture.RunEnvironment(sidecar.SocketPath))
        {
            info.Environment[name] = value;
        }
        using var run = Process.Start(info)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            var stderr = run.StandardError.ReadToEndAsync(deadline.Token);
            Assert.Equal("first-call-done", await run.StandardOutput.ReadLineAsync(deadline.Token));

            var rotated = "sk-" + Infrastructure.TestSecrets.NewToken();
            fixture.OpenAi.AcceptKey(rotated);
            await fixture.RotateAsync(user.OpenAiCredentialId, rotated);
            // The broker pushes the rotation; the sidecar drops the old key from its cache.
            Assert.True(await Poll.UntilAsync(async () => (await sidecar.StatusAsync()).Stdout.Contains("cached leases:       0", StringComparison.Ordinal),
                TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100)), "the sidecar kept the rotated key");
            await run.StandardInput.WriteLineAsync("go");
            run.StandardInput.Close();
            var output = await run.StandardOutput.ReadToEndAsync(deadline.Token);
            await run.WaitForExitAsync(deadline.Token);

            var report = AiNodeReport.Parse(output, output + await stderr);
            Assert.Equal(0, run.ExitCode);
            Assert.Null(report.Error);
            var keys = fixture.OpenAi.Calls.Where(c => c.PresentedKey == user.OpenAiKey || c.PresentedKey == rotated).Select(c => c.PresentedKey).ToList();
            Assert.Equal([user.OpenAiKey, rotated], keys);
        }
        finally
        {
            if (!run.HasExited)
            {
                run.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task MonthlyLimit_OfThree_ExactlyThreeForwarded_FourthAnswered429Locally()
    {
        var user = await fixture.CreateUserAsync(withAnthropic: false, monthlyLimit: 3);
        await using var sidecar = await fixture.StartSidecarAsync(user.UserId);

        var result = await fixture.SidecarCliAsync(sidecar.SocketPath, ["run", "--", "node", "openai-client.mjs", "calls", "6"]).ShouldSucceedAsync();

        // Each request was granted (and counted) by the broker before it was forwarded: no fourth one reaches the provider.
        var report = AiNodeReport.Parse(result);
        Assert.Equal([200, 200, 200, 429, 429, 429], report.Statuses);
        Assert.Equal(3, fixture.OpenAi.Calls.Count(c => c.Accepted && c.PresentedKey == user.OpenAiKey));
        Assert.Contains($"the openai credential {user.OpenAiCredentialId} has reached its monthly limit of 3 requests",
            report.Raw.GetProperty("lastError").GetProperty("message").GetString(), StringComparison.Ordinal);
        var credential = await fixture.GetCredentialAsync(user.OpenAiCredentialId);
        Assert.True(credential.GetProperty("limitReached").GetBoolean());
        Assert.Equal(3, credential.GetProperty("usage").GetProperty("usesThisMonth").GetInt64());
    }

    private async Task AssertUsageCountedAsync(string credentialId)
    {
        // Usage reports travel in the background after each response: poll briefly.
        System.Text.Json.JsonElement usage = default;
        var counted = await Poll.UntilAsync(async () =>
        {
            usage = (await fixture.GetCredentialAsync(credentialId)).GetProperty("usage");
            return usage.TryGetProperty("inputTokens", out var tokens) && tokens.GetInt64() >= 11;
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100));
        Assert.True(counted, "tokens were not counted: " + usage.GetRawText());
    }

    private static void AssertIncremental(IReadOnlyList<(long Ms, long At, string Text)> chunks, string[] words, ProviderServer server)
    {
        Assert.Equal(string.Concat(words), string.Concat(chunks.Select(c => c.Text)));
        var textChunks = chunks.Where(c => c.Text.Length > 0).ToList();
        Assert.Equal(words.Length, textChunks.Count);
        // Causal, not timed: a proxy that buffered the response could not deliver the first word
        // before the server began writing the last one (same machine, same wall clock).
        var lastWord = JsonSerializer.Serialize(words[^1]);
        var lastWordWritingAt = server.StreamedEvents.Last(e => e.Json.Contains(lastWord, StringComparison.Ordinal)).WritingAt;
        Assert.True(textChunks[0].At < lastWordWritingAt,
            $"the first chunk arrived at {textChunks[0].At}, not before the server began writing the last at {lastWordWritingAt}");
    }
}
