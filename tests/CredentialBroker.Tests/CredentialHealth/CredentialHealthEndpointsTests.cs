using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Xares.Broker.ApiKeys;
using Xares.Broker.Hosting;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.CredentialHealth;

/// <summary>POST /api/v1/credentials/{id}/test and the health listing, through the whole broker, against local provider servers.</summary>
public sealed class CredentialHealthEndpointsTests
{
    internal const string GitSecret = "ghp_H3althGitToken0123456789abcdef9a1b";
    private const string AiSecret = "sk-ant-H3althAiKey0123456789abcdef5c2d";

    internal static Task<BrokerTestHost> StartAsync(params string[] allow) =>
        BrokerTestHost.StartAsync(o => o with { OutboundAllow = allow, CredentialTestInterval = TimeSpan.Zero });

    internal static Task<FakeProvider> GitHubEnterpriseAsync() =>
        FakeProvider.StartAsync(app => app.MapGet("/api/v3/user", FakeProvider.Guarded("Authorization", $"Bearer {GitSecret}",
            """{"login":"octocat","name":"The Octocat"}""", new Dictionary<string, string> { ["X-OAuth-Scopes"] = "repo" })));

    internal static async Task<string> CreateAsync(BrokerTestHost host, string user, object body) =>
        (await (await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials", body)).JsonAsync(201)).Str("id");

    private static async Task<JsonElement> TestAsync(HttpClient client, string id) =>
        await (await client.PostAsync($"/api/v1/credentials/{id}/test", null)).JsonAsync(200);

    [Fact]
    public async Task Test_GitHubEnterprise_OkWithIdentityRecordedAuditedAndCounted()
    {
        await using var github = await GitHubEnterpriseAsync();
        await using var host = await StartAsync("127.0.0.1");
        var user = await host.CreateUserAsync();
        var id = await CreateAsync(host, user, new { kind = "git", provider = "github", url = github.Origin + "/octo-org", username = "x-access-token", secret = GitSecret });
        var before = await ScrapeAsync(host);

        var response = await host.Admin.PostAsync($"/api/v1/credentials/{id}/test", null);
        var text = await response.Content.ReadAsStringAsync();
        var result = await response.JsonAsync(200);

        Assert.Equal("ok", result.Str("status"));
        Assert.True(result.GetProperty("checkedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal("octocat", result.GetProperty("identity").Str("login"));
        Assert.Equal("repo", result.GetProperty("identity").GetProperty("scopes")[0].GetString());
        Assert.DoesNotContain(GitSecret, text, StringComparison.Ordinal);
        Assert.Equal($"Bearer {GitSecret}", github.Requests.Single().Header("Authorization"));

        var health = (await (await host.Admin.GetAsync($"/api/v1/credentials/{id}")).JsonAsync(200)).GetProperty("health");
        Assert.Equal("active", health.Str("status"));
        Assert.Equal("octocat", health.GetProperty("identity").Str("login"));

        var auditText = await (await host.Admin.GetAsync($"/api/v1/audit?credentialId={id}&action=credential.test")).Content.ReadAsStringAsync();
        Assert.Contains("login octocat", auditText, StringComparison.Ordinal);
        Assert.DoesNotContain(GitSecret, auditText, StringComparison.Ordinal);
        var after = await ScrapeAsync(host);
        const string labels = "provider=\"github\",outcome=\"ok\",trigger=\"api\"";
        Assert.True(Value(after, "xares_credential_tests_total", labels) > Value(before, "xares_credential_tests_total", labels));
    }

    [Fact]
    public async Task Test_AnthropicWrongKey_FailedAndListedAsError()
    {
        await using var anthropic = await FakeProvider.StartAsync(app => app.MapGet("/v1/models",
            FakeProvider.Guarded("x-api-key", "sk-ant-the-right-key", """{"data":[]}""")));
        await using var host = await StartAsync("127.0.0.1");
        var user = await host.CreateUserAsync();
        var id = await CreateAsync(host, user, new { kind = "ai", provider = "anthropic", secret = AiSecret, baseUrl = anthropic.Origin });
        var healthy = await CreateAsync(host, user, new { kind = "ai", provider = "anthropic", secret = "sk-ant-the-right-key", baseUrl = anthropic.Origin });

        var result = await TestAsync(host.Admin, id);
        await TestAsync(host.Admin, healthy);

        Assert.Equal("failed", result.Str("status"));
        Assert.Contains("HTTP 401", result.Str("reason"), StringComparison.Ordinal);
        Assert.Equal(AiSecret, anthropic.Requests.First().Header("x-api-key"));
        var errors = await ItemsAsync(host.Admin, "/api/v1/credentials?status=error");
        var active = await ItemsAsync(host.Admin, $"/api/v1/credentials?status=active&userId={user}");
        Assert.Equal([id], errors.Select(e => e.Str("id")));
        Assert.Contains("HTTP 401", errors[0].GetProperty("health").Str("reason"), StringComparison.Ordinal);
        Assert.Equal([healthy], active.Select(e => e.Str("id")));
    }

    [Fact]
    public async Task Test_OtherUsersKeyUnderScopedOrNone_RefusedAndProviderNeverCalled()
    {
        await using var github = await GitHubEnterpriseAsync();
        await using var host = await StartAsync("127.0.0.1");
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");
        var id = await CreateAsync(host, alice, new { kind = "git", provider = "github", url = github.Origin, username = "x", secret = GitSecret });
        using var bobKey = host.CreateClient(await KeyAsync(host, [ApiKeyScopes.CredentialsWrite, ApiKeyScopes.CredentialsRead], bob));
        using var readOnly = host.CreateClient(await KeyAsync(host, [ApiKeyScopes.CredentialsRead], alice));
        using var anonymous = host.CreateClient(null);

        await (await bobKey.PostAsync($"/api/v1/credentials/{id}/test", null)).ProblemAsync(404, "not-found");
        await (await bobKey.PostAsync("/api/v1/credentials/cred_doesnotexist/test", null)).ProblemAsync(404, "not-found");
        Assert.Equal(403, (int)(await readOnly.PostAsync($"/api/v1/credentials/{id}/test", null)).StatusCode);
        Assert.Equal(401, (int)(await anonymous.PostAsync($"/api/v1/credentials/{id}/test", null)).StatusCode);
        Assert.Empty(github.Requests);

        Assert.Empty(await ItemsAsync(bobKey, "/api/v1/credentials"));
        await (await bobKey.GetAsync($"/api/v1/credentials?userId={alice}")).ProblemAsync(404, "not-found");
        Assert.Single(await ItemsAsync(readOnly, "/api/v1/credentials"));
        Assert.Single(await ItemsAsync(host.Admin, "/api/v1/credentials")); // an unbound key sees every user's
    }

    [Fact]
    public async Task Test_MetadataAddress_FailedAndNothingContacted()
    {
        await using var host = await StartAsync("127.0.0.1");
        var user = await host.CreateUserAsync();
        var id = await CreateAsync(host, user, new { kind = "git", provider = "generic", url = "http://169.254.169.254/latest/meta-data", username = "x", secret = GitSecret });

        var result = await TestAsync(host.Admin, id);

        Assert.Equal("failed", result.Str("status"));
        Assert.Contains("link-local", result.Str("reason"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_LoopbackPortNotAllowListed_FailedAndListenerNeverContacted()
    {
        using var adminPort = new ConnectionCounter();
        await using var github = await GitHubEnterpriseAsync();
        await using var host = await StartAsync($"127.0.0.1:{github.Port}");
        var user = await host.CreateUserAsync();
        var id = await CreateAsync(host, user, new { kind = "git", provider = "gitea", url = $"http://127.0.0.1:{adminPort.Port}/org", username = "x", secret = GitSecret });

        var result = await TestAsync(host.Admin, id);

        Assert.Equal("failed", result.Str("status"));
        Assert.Contains("loopback", result.Str("reason"), StringComparison.Ordinal);
        await Task.Delay(200);
        Assert.Equal(0, adminPort.Connections);
    }

    [Fact]
    public async Task Test_AllowListedServerRedirects_FailedAndTargetNeverContacted()
    {
        using var target = new ConnectionCounter();
        await using var redirector = await FakeProvider.StartAsync(app =>
            app.MapGet("/api/v1/user", (HttpContext c) => Results.Redirect($"http://127.0.0.1:{target.Port}/collect")));
        await using var host = await StartAsync("127.0.0.1");
        var user = await host.CreateUserAsync();
        var id = await CreateAsync(host, user, new { kind = "git", provider = "forgejo", url = redirector.Origin + "/org", username = "x", secret = GitSecret });

        var result = await TestAsync(host.Admin, id);

        Assert.Equal("failed", result.Str("status"));
        Assert.Contains("redirect refused", result.Str("reason"), StringComparison.Ordinal);
        await Task.Delay(200);
        Assert.Equal(0, target.Connections);
    }

    [Fact]
    public async Task Health_NewSecretResetsToUncheckedAndExpiryShowsExpiring()
    {
        await using var github = await GitHubEnterpriseAsync();
        await using var host = await StartAsync("127.0.0.1");
        var user = await host.CreateUserAsync();
        var id = await CreateAsync(host, user, new { kind = "git", provider = "github", url = github.Origin, username = "x", secret = GitSecret });
        var soon = await CreateAsync(host, user, new
        {
            kind = "git", provider = "generic", url = github.Origin + "/repo", username = "x", secret = GitSecret, expiresAt = DateTimeOffset.UtcNow.AddDays(3),
        });
        await TestAsync(host.Admin, id);

        var patched = await (await host.Admin.PatchJsonAsync($"/api/v1/credentials/{id}", new { secret = "ghp_rotated0123456789" })).JsonAsync(200);
        var expiring = await ItemsAsync(host.Admin, "/api/v1/credentials?status=expiring");
        var listed = await ItemsAsync(host.Admin, $"/api/v1/users/{user}/credentials");

        Assert.Equal("unchecked", patched.GetProperty("health").Str("status"));
        Assert.Equal([soon], expiring.Select(e => e.Str("id")));
        Assert.StartsWith("expires at", expiring[0].GetProperty("health").Str("reason"), StringComparison.Ordinal);
        Assert.Equal(["unchecked", "expiring"], listed.Select(e => e.GetProperty("health").Str("status")));
        await (await host.Admin.GetAsync("/api/v1/credentials?status=broken")).ProblemAsync(400, "validation");
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=AAAAAAAAAAA", "cursor")]
    [InlineData("cursor=AAAAAAAAAAE", "cursor")]
    [InlineData("status=broken&limit=0", "limit")]
    public async Task List_BadLimitOrCursor_400NamingTheField(string query, string field)
    {
        await using var host = await StartAsync();

        var problem = await (await host.Admin.GetAsync($"/api/v1/credentials?{query}")).ProblemAsync(400, "validation");

        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task List_CursorOfAnotherPosition_IsAcceptedOnlyVerbatim()
    {
        await using var host = await StartAsync();
        var user = await host.CreateUserAsync();
        for (var i = 0; i < 3; i++)
        {
            await CreateAsync(host, user, new { kind = "ai", provider = "openai", secret = $"sk-cursor-000000000{i}" });
        }
        var first = await (await host.Admin.GetAsync("/api/v1/credentials?limit=1")).JsonAsync(200);
        var cursor = first.Str("nextCursor");

        var second = await (await host.Admin.GetAsync($"/api/v1/credentials?limit=1&cursor={cursor}")).JsonAsync(200);
        Assert.NotEqual(first.GetProperty("items")[0].Str("id"), second.GetProperty("items")[0].Str("id"));
        // Base64url without its canonical form (a padding character) is not ours, nor is it a workspace listing's cursor.
        await (await host.Admin.GetAsync($"/api/v1/credentials?limit=1&cursor={cursor}%3D")).ProblemAsync(400, "validation");
        var refused = await (await host.Admin.GetAsync($"/api/v1/workspaces?limit=1&cursor={cursor}")).ProblemAsync(400, "validation");
        Assert.True(refused.GetProperty("errors").TryGetProperty("cursor", out _));
        await (await host.Admin.GetAsync("/api/v1/workspaces?limit=0")).ProblemAsync(400, "validation");
        await (await host.Admin.GetAsync($"/api/v1/users?cursor={cursor}")).ProblemAsync(400, "validation");
        await (await host.Admin.GetAsync("/api/v1/users?limit=1001")).ProblemAsync(400, "validation");
    }

    private static async Task<string> ScrapeAsync(BrokerTestHost host)
    {
        using var client = host.CreateClient(null);
        return await client.GetStringAsync("/metrics");
    }

    // prometheus-net's registry is process-wide: tests compare before and after, never absolute values.
    private static double Value(string exposition, string name, string labels)
    {
        var prefix = $"{name}{{{labels}}} ";
        var line = exposition.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[prefix.Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static async Task<List<JsonElement>> ItemsAsync(HttpClient client, string url) =>
        (await (await client.GetAsync(url)).JsonAsync(200)).GetProperty("items").EnumerateArray().ToList();

    private static async Task<string> KeyAsync(BrokerTestHost host, string[] scopes, string user) =>
        (await (await host.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "k", scopes, userId = user })).JsonAsync(201)).Str("key");
}
