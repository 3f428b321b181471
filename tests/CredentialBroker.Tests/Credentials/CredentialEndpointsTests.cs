using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.ApiKeys;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;
using Xares.Broker.Tests.Users;

namespace Xares.Broker.Tests.Credentials;

public sealed class CredentialEndpointsTests
{
    private const string GitSecret = "ghp_S3cretGitToken0123456789abcdefF3A9";
    private const string AiSecret = "sk-ant-S3cretAiKey0123456789abcdef77c1";

    [Fact]
    public async Task Create_GitCredential_Returns201WithCanonicalUrlAndHintOnly()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();

        var response = await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials", new
        {
            kind = "git", provider = "github", url = "HTTPS://GitHub.com:443/Org/Repo/", username = "x-access-token", secret = GitSecret,
            name = "work", expiresAt = DateTimeOffset.UtcNow.AddDays(30),
        });

        var text = await response.Content.ReadAsStringAsync();
        var body = await response.JsonAsync(201);
        Assert.DoesNotContain(GitSecret, text, StringComparison.Ordinal);
        var id = body.Str("id");
        Assert.StartsWith("cred_", id, StringComparison.Ordinal);
        Assert.Equal($"/api/v1/credentials/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(user, body.Str("userId"));
        Assert.Equal("git", body.Str("kind"));
        Assert.Equal("github", body.Str("provider"));
        Assert.Equal("work", body.Str("name"));
        Assert.Equal("https://github.com/Org/Repo", body.Str("url"));
        Assert.True(body.IsNull("baseUrl"));
        Assert.Equal("x-access-token", body.Str("username"));
        Assert.Equal("…F3A9", body.Str("secretHint"));
        Assert.Equal(1, body.GetProperty("secretVersion").GetInt64());
        Assert.False(body.GetProperty("flagged").GetBoolean());
        Assert.Equal(0, body.GetProperty("rejectionCount").GetInt64());
        Assert.True(body.IsNull("lastRejectedAt"));
        Assert.False(body.IsNull("expiresAt"));
        Assert.False(body.TryGetProperty("secret", out _));

        using var connection = UserEndpointsTests.Open(host);
        var columns = Sql.Query(connection, null, "SELECT url, scheme, host, port, path FROM credentials WHERE id = $id",
            r => (r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4)), ("$id", id)).Single();
        Assert.Equal(("https://github.com/Org/Repo", "https", "github.com", 443L, "/Org/Repo"), columns);
    }

    [Fact]
    public async Task Create_AiCredential_StoresBaseUrlAndShowsHintOnly()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();

        var withDefault = await (await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials",
            new { kind = "ai", provider = "anthropic", secret = AiSecret })).JsonAsync(201);
        var withBase = await (await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials",
            new { kind = "ai", provider = "openai", secret = AiSecret, name = "proxy", baseUrl = "https://LLM.example.com/v1/" })).JsonAsync(201);
        var loopback = await (await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials",
            new { kind = "ai", provider = "openai", secret = AiSecret, baseUrl = "http://127.0.0.1:11434/v1" })).JsonAsync(201);

        Assert.Equal("ai", withDefault.Str("kind"));
        Assert.True(withDefault.IsNull("baseUrl"));
        Assert.True(withDefault.IsNull("url"));
        Assert.True(withDefault.IsNull("username"));
        Assert.Equal("…77c1", withDefault.Str("secretHint"));
        Assert.Equal("https://llm.example.com/v1", withBase.Str("baseUrl"));
        Assert.Equal("http://127.0.0.1:11434/v1", loopback.Str("baseUrl"));
    }

    [Fact]
    public async Task GetListPatchDelete_NeverReturnTheSecret()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var git = await host.CreateGitCredentialAsync(user, "https://gitlab.example.com/group", "oauth2", GitSecret, "gitlab");
        var ai = await (await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials", new { kind = "ai", provider = "groq", secret = AiSecret }))
            .JsonAsync(201);
        const string rotated = "glpat-R0tatedSecretValue000000000beef";

        var texts = new List<string>();
        async Task<JsonElement> Read(HttpResponseMessage response, int status)
        {
            texts.Add(await response.Content.ReadAsStringAsync());
            return await response.JsonAsync(status);
        }
        var list = await Read(await host.Admin.GetAsync($"/api/v1/users/{user}/credentials"), 200);
        await Read(await host.Admin.GetAsync($"/api/v1/credentials/{git}"), 200);
        await Read(await host.Admin.GetAsync($"/api/v1/credentials/{ai.Str("id")}"), 200);
        var patched = await Read(await host.Admin.PatchJsonAsync($"/api/v1/credentials/{git}", new { secret = rotated, name = "renamed" }), 200);
        await Read(await host.Admin.GetAsync("/api/v1/audit?limit=1000"), 200);
        var delete = await host.Admin.DeleteAsync($"/api/v1/credentials/{ai.Str("id")}");
        texts.Add(await delete.Content.ReadAsStringAsync());

        Assert.Equal(204, (int)delete.StatusCode);
        Assert.All(texts, text =>
        {
            Assert.DoesNotContain(GitSecret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(AiSecret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(rotated, text, StringComparison.Ordinal);
            Assert.DoesNotContain("\"secret\"", text, StringComparison.Ordinal);
        });
        var items = list.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["…F3A9", "…77c1"], items.Select(i => i.Str("secretHint")).ToArray());
        Assert.Equal("renamed", patched.Str("name"));
        Assert.Equal("…beef", patched.Str("secretHint"));
        await (await host.Admin.GetAsync($"/api/v1/credentials/{ai.Str("id")}")).ProblemAsync(404);
    }

    [Fact]
    public async Task Patch_NewSecret_BumpsVersionResetsFlagAndWritesRevocation()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var id = await host.CreateGitCredentialAsync(user, "https://github.com/org", "x-access-token", GitSecret, "github");
        using (var connection = UserEndpointsTests.Open(host))
        {
            UserEndpointsTests.Scalar(connection, "UPDATE credentials SET rejection_count = 2, flagged_at = 1000 WHERE id = $p", id);
        }

        var body = await (await host.Admin.PatchJsonAsync($"/api/v1/credentials/{id}",
            new { secret = "ghp_NewSecret000000000000000000000001", url = "https://github.com/other", username = "bot" })).JsonAsync(200);

        Assert.Equal(2, body.GetProperty("secretVersion").GetInt64());
        Assert.Equal("https://github.com/other", body.Str("url"));
        Assert.Equal("bot", body.Str("username"));
        Assert.False(body.GetProperty("flagged").GetBoolean());
        Assert.Equal(0, body.GetProperty("rejectionCount").GetInt64());
        using var check = UserEndpointsTests.Open(host);
        Assert.Equal(1L, UserEndpointsTests.Scalar(check, "SELECT COUNT(*) FROM revocations WHERE kind = 'credential' AND target_id = $p", id));
        Assert.Equal(1L, UserEndpointsTests.Scalar(check, "SELECT COUNT(*) FROM audit_log WHERE action = 'credential.update' AND credential_id = $p", id));
    }

    [Theory]
    [InlineData("{\"url\":\"https://github.com/elsewhere\"}", "url")]
    [InlineData("{\"username\":\"someone-else\"}", "username")]
    [InlineData("{\"provider\":\"gitlab\"}", "provider")]
    [InlineData("{\"url\":\"https://github.com/elsewhere\",\"name\":\"x\"}", "url")]
    [InlineData("{\"expiresAt\":12}", "expiresAt")]
    [InlineData("{\"expiresAt\":\"tomorrow\"}", "expiresAt")]
    [InlineData("{\"expiresAt\":\"2001-01-01T00:00:00Z\"}", "expiresAt")]
    [InlineData("{\"name\":[\"a\"]}", "name")]
    [InlineData("{\"name\":\"\\ud800\"}", "name")]
    [InlineData("{\"baseUrl\":false}", "baseUrl")]
    [InlineData("{\"baseUrl\":\"https://llm.example.test/v1\",\"secret\":\"ghp_NewSecret000000000000000000000001\"}", "baseUrl")]
    public async Task Patch_DestinationWithoutNewSecretOrBadField_Returns400NamingItAndChangesNothing(string json, string field)
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var id = await host.CreateGitCredentialAsync(user, "https://github.com/org", "x-access-token", GitSecret, "github");
        var before = await (await host.Admin.GetAsync($"/api/v1/credentials/{id}")).Content.ReadAsStringAsync();

        var problem = await (await host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/credentials/{id}", json)).ProblemAsync(400, "validation");

        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
        Assert.Equal(before, await (await host.Admin.GetAsync($"/api/v1/credentials/{id}")).Content.ReadAsStringAsync());
        using var connection = UserEndpointsTests.Open(host);
        Assert.Equal(0L, UserEndpointsTests.Scalar(connection, "SELECT COUNT(*) FROM revocations WHERE target_id = $p", id));
    }

    [Fact]
    public async Task Patch_SameDestinationOrOnlyName_NeedsNoSecretAndKeepsVersion()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var id = await host.CreateGitCredentialAsync(user, "https://github.com/org", "x-access-token", GitSecret, "github");

        var body = await (await host.Admin.PatchJsonAsync($"/api/v1/credentials/{id}",
            new { url = "https://GITHUB.com/org/", username = "x-access-token", provider = "github", name = "n", expiresAt = DateTimeOffset.UtcNow.AddDays(1) }))
            .JsonAsync(200);

        Assert.Equal(1, body.GetProperty("secretVersion").GetInt64());
        Assert.Equal("n", body.Str("name"));
        using var connection = UserEndpointsTests.Open(host);
        Assert.Equal(0L, UserEndpointsTests.Scalar(connection, "SELECT COUNT(*) FROM revocations WHERE target_id = $p", id));
    }

    [Fact]
    public async Task Patch_NullNameAndExpiresAt_RemovesThemAndIsAudited()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var created = await (await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials", new
        {
            kind = "git", provider = "github", url = "https://github.com/org", username = "x-access-token", secret = GitSecret,
            name = "work", expiresAt = DateTimeOffset.UtcNow.AddDays(30),
        })).JsonAsync(201);
        var id = created.Str("id");

        var body = await (await host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/credentials/{id}", "{\"name\":null,\"expiresAt\":null}")).JsonAsync(200);

        Assert.True(body.IsNull("name"));
        Assert.True(body.IsNull("expiresAt"));
        Assert.Equal(1, body.GetProperty("secretVersion").GetInt64());
        var reread = await (await host.Admin.GetAsync($"/api/v1/credentials/{id}")).JsonAsync(200);
        Assert.True(reread.IsNull("name"));
        Assert.True(reread.IsNull("expiresAt"));
        using var connection = UserEndpointsTests.Open(host);
        Assert.Equal("changed name, expiresAt; secret version 1", Sql.Query(connection, null,
            "SELECT detail FROM audit_log WHERE action = 'credential.update' AND credential_id = $id", r => r.GetString(0), ("$id", id)).Single());
        // Absent members leave what is there: an empty patch changes nothing.
        var unchanged = await (await host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/credentials/{id}", "{}")).JsonAsync(200);
        Assert.Equal(reread.GetRawText(), unchanged.GetRawText());
    }

    [Fact]
    public async Task Patch_NullBaseUrl_RestoresTheProviderDefaultOnlyWithANewSecret()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var id = (await (await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials",
            new { kind = "ai", provider = "openai", secret = AiSecret, baseUrl = "https://llm.example.test/v1" })).JsonAsync(201)).Str("id");

        var refused = await (await host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/credentials/{id}", "{\"baseUrl\":null}")).ProblemAsync(400, "validation");
        Assert.True(refused.GetProperty("errors").TryGetProperty("baseUrl", out _));
        Assert.Equal("https://llm.example.test/v1", (await (await host.Admin.GetAsync($"/api/v1/credentials/{id}")).JsonAsync(200)).Str("baseUrl"));

        var body = await (await host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/credentials/{id}",
            "{\"baseUrl\":null,\"secret\":\"sk-ant-AnotherAiKey0123456789abcdef0001\"}")).JsonAsync(200);
        Assert.True(body.IsNull("baseUrl"));
        Assert.Equal(2, body.GetProperty("secretVersion").GetInt64());
    }

    [Fact]
    public async Task Delete_Credential_RemovesRowAndWritesRevocation()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var id = await host.CreateGitCredentialAsync(user, "https://github.com/org", "x-access-token", GitSecret);

        Assert.Equal(204, (int)(await host.Admin.DeleteAsync($"/api/v1/credentials/{id}")).StatusCode);

        await (await host.Admin.DeleteAsync($"/api/v1/credentials/{id}")).ProblemAsync(404);
        using var connection = UserEndpointsTests.Open(host);
        Assert.Equal(0L, UserEndpointsTests.Scalar(connection, "SELECT COUNT(*) FROM credentials WHERE id = $p", id));
        Assert.Equal(1L, UserEndpointsTests.Scalar(connection, "SELECT COUNT(*) FROM revocations WHERE kind = 'credential' AND target_id = $p", id));
        Assert.Equal(1L, UserEndpointsTests.Scalar(connection, "SELECT COUNT(*) FROM audit_log WHERE action = 'credential.delete' AND credential_id = $p", id));
    }

    [Fact]
    public async Task UserBoundKey_OtherUsersCredentials_AreNotFound()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");
        var bobCredential = await host.CreateGitCredentialAsync(bob, "https://github.com/bob", "x-access-token", GitSecret);
        var aliceCredential = await host.CreateGitCredentialAsync(alice, "https://github.com/alice", "x-access-token", GitSecret);
        using var aliceClient = host.CreateClient(await UserEndpointsTests.CreateKeyAsync(host,
            [ApiKeyScopes.CredentialsRead, ApiKeyScopes.CredentialsWrite], alice));

        await (await aliceClient.GetAsync($"/api/v1/users/{bob}/credentials")).ProblemAsync(404);
        await (await aliceClient.GetAsync($"/api/v1/credentials/{bobCredential}")).ProblemAsync(404);
        await (await aliceClient.PatchJsonAsync($"/api/v1/credentials/{bobCredential}", new { name = "mine" })).ProblemAsync(404);
        await (await aliceClient.DeleteAsync($"/api/v1/credentials/{bobCredential}")).ProblemAsync(404);
        await (await aliceClient.PostAsJsonAsync($"/api/v1/users/{bob}/credentials",
            new { kind = "ai", provider = "openai", secret = AiSecret })).ProblemAsync(404);
        var own = await (await aliceClient.GetAsync($"/api/v1/users/{alice}/credentials")).JsonAsync(200);

        Assert.Equal([aliceCredential], own.GetProperty("items").EnumerateArray().Select(i => i.Str("id")).ToArray());
        var bobs = await (await host.Admin.GetAsync($"/api/v1/credentials/{bobCredential}")).JsonAsync(200);
        Assert.True(bobs.IsNull("name"));
        Assert.Equal(1L, UserEndpointsTests.Count(host, "credentials WHERE user_id = '" + bob + "'"));
    }

    [Fact]
    public async Task ReadOnlyKey_CannotWrite()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        using var reader = host.CreateClient(await UserEndpointsTests.CreateKeyAsync(host, [ApiKeyScopes.CredentialsRead], null));

        await (await reader.PostAsJsonAsync($"/api/v1/users/{user}/credentials", new { kind = "ai", provider = "openai", secret = AiSecret }))
            .ProblemAsync(403);
        await (await reader.GetAsync($"/api/v1/users/{user}/credentials")).JsonAsync(200);
        Assert.Equal(0L, UserEndpointsTests.Count(host, "credentials"));
    }
}
