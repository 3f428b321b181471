using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Xares.Broker.CredentialHealth;

namespace Xares.Broker.Tests.CredentialHealth;

/// <summary>
/// Each provider's probe against a local server that speaks that provider's documented API and
/// checks its auth header: the right secret is ok with the identity parsed, a wrong one fails.
/// </summary>
public sealed class ProviderProbeTests : IDisposable
{
    private const string Secret = "tok_Pr0beSecret0123456789abcdef";
    private const string Wrong = "tok_WrongSecret0123456789abcdef";
    private readonly OutboundHttp _http = new(OutboundAllowList.Parse(["127.0.0.1"]));

    public void Dispose() => _http.Dispose();

    private async Task<(ProbeOutcome Good, ProbeOutcome Bad)> BothAsync(ProviderProbe probe, ProbeTarget target)
    {
        var good = await probe.RunAsync(_http, target, Secret, CancellationToken.None);
        var bad = await probe.RunAsync(_http, target, Wrong, CancellationToken.None);
        Assert.True(good.Ok, good.Reason);
        Assert.False(bad.Ok);
        Assert.DoesNotContain(Wrong, bad.Reason!, StringComparison.Ordinal);
        return (good, bad);
    }

    private static ProviderProbe Probe(string kind, string provider, string? url, string? username = "x-access-token") =>
        ProviderProbes.For(new ProbeTarget(kind, provider, url, username)) ?? throw new InvalidOperationException("no probe");

    [Fact]
    public async Task GitHubEnterprise_UserEndpoint_ParsesLoginScopesRateLimitAndExpiry()
    {
        await using var server = await FakeProvider.StartAsync(app => app.MapGet("/api/v3/user", FakeProvider.Guarded("Authorization", $"Bearer {Secret}",
            """{"login":"octocat","name":"The Octocat","id":1}""",
            new Dictionary<string, string>
            {
                ["X-OAuth-Scopes"] = "repo, read:org", ["X-RateLimit-Limit"] = "5000", ["X-RateLimit-Remaining"] = "4999",
                ["X-RateLimit-Reset"] = "1767225600", ["GitHub-Authentication-Token-Expiration"] = "2027-03-10 16:11:47 UTC",
            })));
        var target = new ProbeTarget("git", "github", server.Origin + "/octo-org", "x-access-token");

        var (good, bad) = await BothAsync(Probe("git", "github", target.Url), target);

        Assert.Equal("octocat", good.Identity!.Login);
        Assert.Equal("The Octocat", good.Identity.Name);
        Assert.Equal(["repo", "read:org"], good.Identity.Scopes);
        Assert.Equal(new RateLimitInfo(5000, 4999, DateTimeOffset.FromUnixTimeSeconds(1767225600)), good.Identity.RateLimit);
        Assert.Equal(DateTimeOffset.Parse("2027-03-10T16:11:47Z"), good.Identity.ExpiresAt);
        Assert.Contains("HTTP 401", bad.Reason, StringComparison.Ordinal);
        var request = server.Requests.First();
        Assert.Equal("2022-11-28", request.Header("X-GitHub-Api-Version"));
        Assert.Equal("xares-broker", request.Header("User-Agent"));
    }

    [Fact]
    public async Task GitLab_UserThenTokenSelf_ParsesUsernameScopesAndExpiry()
    {
        await using var server = await FakeProvider.StartAsync(app =>
        {
            app.MapGet("/api/v4/user", FakeProvider.Guarded("PRIVATE-TOKEN", Secret, """{"id":24,"username":"jdoe","name":"Jane Doe"}""",
                new Dictionary<string, string> { ["RateLimit-Limit"] = "2000", ["RateLimit-Remaining"] = "1999" }));
            app.MapGet("/api/v4/personal_access_tokens/self", FakeProvider.Guarded("PRIVATE-TOKEN", Secret,
                """{"id":4,"name":"ci","revoked":false,"scopes":["read_repository","write_repository"],"active":true,"expires_at":"2027-01-31"}"""));
        });
        var url = server.Origin + "/group/project";

        var (good, _) = await BothAsync(Probe("git", "gitlab", url, "oauth2"), new ProbeTarget("git", "gitlab", url, "oauth2"));

        Assert.Equal("jdoe", good.Identity!.Login);
        Assert.Equal(["read_repository", "write_repository"], good.Identity.Scopes);
        Assert.Equal(new RateLimitInfo(2000, 1999, null), good.Identity.RateLimit);
        Assert.Equal(DateTimeOffset.Parse("2027-01-31T00:00:00Z"), good.Identity.ExpiresAt);
    }

    [Fact]
    public async Task GitLab_TokenReportedInactive_Fails()
    {
        await using var server = await FakeProvider.StartAsync(app =>
        {
            app.MapGet("/api/v4/user", FakeProvider.Guarded("PRIVATE-TOKEN", Secret, """{"username":"jdoe"}"""));
            app.MapGet("/api/v4/personal_access_tokens/self", FakeProvider.Guarded("PRIVATE-TOKEN", Secret, """{"active":false,"scopes":[]}"""));
        });
        var target = new ProbeTarget("git", "gitlab", server.Origin, "oauth2");

        var outcome = await Probe("git", "gitlab", target.Url).RunAsync(_http, target, Secret, CancellationToken.None);

        Assert.False(outcome.Ok);
        Assert.Contains("inactive", outcome.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gitea")]
    [InlineData("forgejo")]
    public async Task GiteaAndForgejo_TokenHeader_ParsesLogin(string provider)
    {
        await using var server = await FakeProvider.StartAsync(app => app.MapGet("/api/v1/user",
            FakeProvider.Guarded("Authorization", $"token {Secret}", """{"id":1,"login":"gitea-user","full_name":"Gitea User"}""")));
        var target = new ProbeTarget("git", provider, server.Origin + "/org/repo.git", "gitea-user");

        var (good, _) = await BothAsync(Probe("git", provider, target.Url), target);

        Assert.Equal("gitea-user", good.Identity!.Login);
        Assert.Equal("Gitea User", good.Identity.Name);
    }

    [Theory]
    [InlineData("x-token-auth", false)]
    [InlineData("jdoe", true)]
    public async Task BitbucketCloud_AccessTokenBearerOrAppPasswordBasic(string username, bool basic)
    {
        var expected = basic ? "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{Secret}")) : $"Bearer {Secret}";
        await using var server = await FakeProvider.StartAsync(app => app.MapGet("/2.0/user", FakeProvider.Guarded("Authorization", expected,
            """{"username":"jdoe","display_name":"J Doe","uuid":"{1}"}""", new Dictionary<string, string> { ["X-OAuth-Scopes"] = "repository, account" })));
        var target = new ProbeTarget("git", "bitbucket", "https://bitbucket.org/team/repo", username);

        var (good, _) = await BothAsync(new BitbucketProbe(new Uri(server.Origin + "/2.0/")), target);

        Assert.Equal("jdoe", good.Identity!.Login);
        Assert.Equal("J Doe", good.Identity.Name);
        Assert.Equal(["repository", "account"], good.Identity.Scopes);
    }

    [Theory]
    [InlineData("generic")]
    [InlineData("bitbucket")] // Bitbucket Data Center: not bitbucket.org, so tested over smart HTTP
    public async Task SmartHttp_AdvertisementWithBasicAuth_OkAndLoginPageFails(string provider)
    {
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"git-user:{Secret}"));
        await using var server = await FakeProvider.StartAsync(app =>
        {
            app.MapGet("/scm/team/repo.git/info/refs", async context =>
            {
                if (context.Request.Headers.Authorization != basic || context.Request.Query["service"] != "git-upload-pack")
                {
                    context.Response.StatusCode = 401;
                    context.Response.Headers.WWWAuthenticate = "Basic realm=\"git\"";
                    return;
                }
                context.Response.ContentType = "application/x-git-upload-pack-advertisement";
                await context.Response.WriteAsync("001e# service=git-upload-pack\n0000");
            });
            app.MapGet("/login/info/refs", async context =>
            {
                context.Response.ContentType = "text/html";
                await context.Response.WriteAsync("<html>sign in</html>");
            });
        });
        var target = new ProbeTarget("git", provider, server.Origin + "/scm/team/repo.git", "git-user");

        var (good, bad) = await BothAsync(Probe("git", provider, target.Url, "git-user"), target);
        var login = await Probe("git", provider, server.Origin + "/login").RunAsync(_http, target with { Url = server.Origin + "/login" }, Secret, CancellationToken.None);
        var missing = await Probe("git", provider, server.Origin + "/nothing").RunAsync(_http, target, Secret, CancellationToken.None);

        Assert.Equal("git-user", good.Identity!.Login);
        Assert.Contains("401", bad.Reason, StringComparison.Ordinal);
        Assert.False(login.Ok);
        Assert.Contains("smart-HTTP", login.Reason, StringComparison.Ordinal);
        Assert.False(missing.Ok);
        Assert.Contains("404", missing.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("openai", "/v1", "/v1/models")]
    [InlineData("groq", "/openai/v1", "/openai/v1/models")]
    public async Task OpenAiCompatible_ModelsWithBearer_ParsesRateLimitHeaders(string provider, string basePath, string modelsPath)
    {
        await using var server = await FakeProvider.StartAsync(app => app.MapGet(modelsPath, FakeProvider.Guarded("Authorization", $"Bearer {Secret}",
            """{"object":"list","data":[{"id":"m","object":"model"}]}""",
            new Dictionary<string, string> { ["x-ratelimit-limit-requests"] = "500", ["x-ratelimit-remaining-requests"] = "499" })));
        var target = new ProbeTarget("ai", provider, server.Origin + basePath, null);

        var (good, bad) = await BothAsync(Probe("ai", provider, target.Url), target);

        Assert.Equal(new RateLimitInfo(500, 499, null), good.Identity!.RateLimit);
        Assert.Contains("HTTP 401", bad.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anthropic_XApiKeyAndVersionHeader()
    {
        await using var server = await FakeProvider.StartAsync(app => app.MapGet("/v1/models", async context =>
        {
            if (context.Request.Headers["anthropic-version"] != ModelListProbe.AnthropicVersion)
            {
                context.Response.StatusCode = 400;
                return;
            }
            await FakeProvider.Guarded("x-api-key", Secret, """{"data":[{"id":"claude","type":"model"}],"has_more":false}""",
                new Dictionary<string, string>
                {
                    ["anthropic-ratelimit-requests-limit"] = "50", ["anthropic-ratelimit-requests-remaining"] = "49",
                    ["anthropic-ratelimit-requests-reset"] = "2026-01-01T00:00:30Z",
                })(context);
        }));
        var target = new ProbeTarget("ai", "anthropic", server.Origin, null);

        var (good, _) = await BothAsync(Probe("ai", "anthropic", target.Url), target);

        Assert.Equal(new RateLimitInfo(50, 49, DateTimeOffset.Parse("2026-01-01T00:00:30Z")), good.Identity!.RateLimit);
        Assert.Null(server.Requests.First().Header("Authorization"));
    }

    [Fact]
    public async Task Google_KeyInHeaderNeverInUrl_InvalidKey400Fails()
    {
        await using var server = await FakeProvider.StartAsync(app => app.MapGet("/v1beta/models", async context =>
        {
            if (context.Request.Headers["x-goog-api-key"] != Secret)
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsync("""{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}""");
                return;
            }
            await context.Response.WriteAsJsonAsync(new { models = new[] { new { name = "models/gemini" } } });
        }));
        var target = new ProbeTarget("ai", "google", server.Origin, null);

        var (_, bad) = await BothAsync(Probe("ai", "google", target.Url), target);

        Assert.Contains("HTTP 400", bad.Reason, StringComparison.Ordinal);
        Assert.All(server.Requests, r => Assert.DoesNotContain(Secret, r.PathAndQuery, StringComparison.Ordinal));
        Assert.All(server.Requests, r => Assert.DoesNotContain("key=", r.PathAndQuery, StringComparison.Ordinal));
    }

    [Fact]
    public async Task OpenRouter_CurrentKeyEndpoint_ParsesLabelLimitAndExpiry()
    {
        await using var server = await FakeProvider.StartAsync(app => app.MapGet("/api/v1/key", FakeProvider.Guarded("Authorization", $"Bearer {Secret}",
            """{"data":{"label":"sk-or-v1-abc...def","limit":100,"usage":1.5,"is_free_tier":false,"rate_limit":{"requests":200,"interval":"10s"},"expires_at":"2027-12-31T23:59:59Z"}}""")));
        var target = new ProbeTarget("ai", "openrouter", server.Origin + "/api/v1", null);

        var (good, _) = await BothAsync(Probe("ai", "openrouter", target.Url), target);

        Assert.Equal("sk-or-v1-abc...def", good.Identity!.Login);
        Assert.Equal(200, good.Identity.RateLimit!.Limit);
        Assert.Equal(DateTimeOffset.Parse("2027-12-31T23:59:59Z"), good.Identity.ExpiresAt);
    }

    [Fact]
    public async Task ProviderError_ReasonNeverQuotesTheBody()
    {
        await using var server = await FakeProvider.StartAsync(app => app.MapGet("/v1/models", async context =>
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("{\"error\":{\"message\":\"Incorrect API key provided: " + Secret + "\"}}");
        }));
        var target = new ProbeTarget("ai", "openai", server.Origin + "/v1", null);

        var outcome = await Probe("ai", "openai", target.Url).RunAsync(_http, target, Secret, CancellationToken.None);

        Assert.False(outcome.Ok);
        Assert.DoesNotContain(Secret, outcome.Reason!, StringComparison.Ordinal);
        Assert.DoesNotContain("Incorrect", outcome.Reason!, StringComparison.Ordinal);
    }
}
