using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.Tests.Support;
using Xares.Broker.Tests.Users;

namespace Xares.Broker.Tests.Credentials;

/// <summary>The bad-input matrix of the credential endpoints: every case is a problem+json and changes nothing.</summary>
public sealed class CredentialValidationTests
{
    private const string Secret = "ghp_ValidationSecret000000000000000001";

    public static TheoryData<string, string, string?> InvalidCreateBodies => new()
    {
        // body, expected status, field named in "errors" (null: framework-level problem)
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":", "400", null },
        { "not json at all", "400", null },
        { "null", "400", null },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\",\"secret\":\"s3cr3t-value\",\"extra\":1}", "400", null },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\",\"secret\":\"s3cr3t-value\",\"expiresAt\":\"soon\"}", "400", null },
        { "{}", "400", "kind" },
        { "{\"kind\":\"svn\",\"provider\":\"github\",\"secret\":\"s3cr3t-value\"}", "400", "kind" },
        { "{\"kind\":\"git\",\"provider\":\"sourceforge\",\"url\":\"https://github.com/o\",\"username\":\"u\",\"secret\":\"s3cr3t-value\"}", "400", "provider" },
        { "{\"kind\":\"ai\",\"provider\":\"github\",\"secret\":\"s3cr3t-value\"}", "400", "provider" },
        { "{\"kind\":\"git\",\"url\":\"https://github.com/o\",\"username\":\"u\",\"secret\":\"s3cr3t-value\"}", "400", "provider" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"username\":\"u\",\"secret\":\"s3cr3t-value\"}", "400", "url" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"secret\":\"s3cr3t-value\"}", "400", "username" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\"}", "400", "secret" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\",\"secret\":\"\"}", "400", "secret" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\",\"secret\":\"abc\\ndef\"}", "400", "secret" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\",\"secret\":\"abc\\rdef\"}", "400", "secret" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\",\"secret\":\"abc\\u0000def\"}", "400", "secret" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\\nhost=evil\",\"secret\":\"s3cr3t-value\"}", "400", "username" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\\r\",\"secret\":\"s3cr3t-value\"}", "400", "username" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\\u0000\",\"secret\":\"s3cr3t-value\"}", "400", "username" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://user:tok@github.com/o\",\"username\":\"u\",\"secret\":\"s3cr3t-value\"}", "400", "url" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"ssh://github.com/o\",\"username\":\"u\",\"secret\":\"s3cr3t-value\"}", "400", "url" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o/../p\",\"username\":\"u\",\"secret\":\"s3cr3t-value\"}", "400", "url" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\",\"secret\":\"s3cr3t-value\",\"baseUrl\":\"https://x\"}", "400", "baseUrl" },
        { "{\"kind\":\"git\",\"provider\":\"github\",\"url\":\"https://github.com/o\",\"username\":\"u\",\"secret\":\"s3cr3t-value\",\"expiresAt\":\"2001-01-01T00:00:00Z\"}", "400", "expiresAt" },
        { "{\"kind\":\"ai\",\"provider\":\"openai\",\"secret\":\"s3cr3t-value\",\"baseUrl\":\"http://api.example.com/v1\"}", "400", "baseUrl" },
        { "{\"kind\":\"ai\",\"provider\":\"openai\",\"secret\":\"s3cr3t-value\",\"baseUrl\":\"/v1\"}", "400", "baseUrl" },
        { "{\"kind\":\"ai\",\"provider\":\"openai\",\"secret\":\"s3cr3t-value\",\"baseUrl\":\"https://k:v@api.example.com\"}", "400", "baseUrl" },
        { "{\"kind\":\"ai\",\"provider\":\"openai\",\"secret\":\"s3cr3t-value\",\"baseUrl\":\"https://api.example.com/v1?key=1\"}", "400", "baseUrl" },
        { "{\"kind\":\"ai\",\"provider\":\"openai\",\"secret\":\"s3cr3t-value\",\"url\":\"https://github.com/o\"}", "400", "url" },
        { "{\"kind\":\"ai\",\"provider\":\"openai\",\"secret\":\"s3cr3t-value\",\"username\":\"u\"}", "400", "username" },
    };

    [Theory]
    [MemberData(nameof(InvalidCreateBodies))]
    public async Task Create_InvalidBody_ReturnsProblemAndCreatesNothing(string json, string status, string? field)
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();

        var response = await host.Admin.SendRawAsync(HttpMethod.Post, $"/api/v1/users/{user}/credentials", json);

        var problem = await response.ProblemAsync(int.Parse(status));
        if (field is not null)
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        }
        Assert.DoesNotContain("s3cr3t-value", problem.ToString(), StringComparison.Ordinal);
        Assert.Equal(0L, UserEndpointsTests.Count(host, "credentials"));
    }

    [Fact]
    public async Task Create_SecretOver8KiB_Returns400()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();

        var response = await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials",
            new { kind = "ai", provider = "openai", secret = new string('a', 8 * 1024 + 1) });
        var atLimit = await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials",
            new { kind = "ai", provider = "openai", secret = new string('a', 8 * 1024) });

        var problem = await response.ProblemAsync(400, "validation");
        Assert.True(problem.GetProperty("errors").TryGetProperty("secret", out _));
        await atLimit.JsonAsync(201);
    }

    [Theory]
    [InlineData("POST", "/api/v1/users/{user}/credentials")]
    [InlineData("PATCH", "/api/v1/credentials/{credential}")]
    [InlineData("POST", "/api/v1/users")]
    [InlineData("POST", "/api/v1/api-keys")]
    public async Task Write_BodyOver64KiB_Returns413ProblemAndChangesNothing(string method, string path)
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var credential = await host.CreateGitCredentialAsync(user, "https://github.com/org", "u", Secret);
        var before = await (await host.Admin.GetAsync($"/api/v1/credentials/{credential}")).Content.ReadAsStringAsync();
        var url = path.Replace("{user}", user, StringComparison.Ordinal).Replace("{credential}", credential, StringComparison.Ordinal);
        var json = JsonSerializer.Serialize(new { kind = "ai", provider = "openai", secret = Secret, name = new string('n', 70 * 1024) });

        var response = await host.Admin.SendRawAsync(new HttpMethod(method), url, json);

        await response.ProblemAsync(413, "too-large");
        Assert.Equal(1L, UserEndpointsTests.Count(host, "credentials"));
        Assert.Equal(1L, UserEndpointsTests.Count(host, "users"));
        Assert.Equal(1L, UserEndpointsTests.Count(host, "api_keys"));
        Assert.Equal(before, await (await host.Admin.GetAsync($"/api/v1/credentials/{credential}")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Create_NotJson_Returns415Problem()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();

        var response = await host.Admin.SendRawAsync(HttpMethod.Post, $"/api/v1/users/{user}/credentials",
            "kind=ai&provider=openai&secret=x", "application/x-www-form-urlencoded");

        await response.ProblemAsync(415);
        Assert.Equal(0L, UserEndpointsTests.Count(host, "credentials"));
    }

    [Fact]
    public async Task Create_UnknownUser_Returns404()
    {
        await using var host = await BrokerTestHost.StartAsync();

        var response = await host.Admin.PostAsJsonAsync("/api/v1/users/usr_missing/credentials",
            new { kind = "ai", provider = "openai", secret = Secret });

        await response.ProblemAsync(404, "not-found");
        await (await host.Admin.GetAsync("/api/v1/users/usr_missing/credentials")).ProblemAsync(404);
        Assert.Equal(0L, UserEndpointsTests.Count(host, "credentials"));
    }

    [Fact]
    public async Task UnknownCredentialId_Returns404Everywhere()
    {
        await using var host = await BrokerTestHost.StartAsync();

        await (await host.Admin.GetAsync("/api/v1/credentials/cred_missing")).ProblemAsync(404);
        await (await host.Admin.PatchJsonAsync("/api/v1/credentials/cred_missing", new { name = "x" })).ProblemAsync(404);
        await (await host.Admin.DeleteAsync("/api/v1/credentials/cred_missing")).ProblemAsync(404);
    }

    [Theory]
    [InlineData("{\"secret\":\"a\\nb\"}", "secret")]
    [InlineData("{\"secret\":\"\"}", "secret")]
    [InlineData("{\"username\":\"a\\u0000\",\"secret\":\"ghp_x000000000000000\"}", "username")]
    [InlineData("{\"url\":\"https://u:p@github.com/o\",\"secret\":\"ghp_x000000000000000\"}", "url")]
    [InlineData("{\"baseUrl\":\"https://api.example.com\",\"secret\":\"ghp_x000000000000000\"}", "baseUrl")]
    [InlineData("{\"provider\":\"openai\",\"secret\":\"ghp_x000000000000000\"}", "provider")]
    [InlineData("{\"expiresAt\":\"2000-01-01T00:00:00Z\"}", "expiresAt")]
    [InlineData("{\"name\":\"x\",\"kind\":\"ai\"}", null)]
    [InlineData("{\"name\":", null)]
    public async Task Patch_InvalidBody_ReturnsProblemAndChangesNothing(string json, string? field)
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        var id = await host.CreateGitCredentialAsync(user, "https://github.com/org", "x-access-token", Secret, "github");
        var before = await (await host.Admin.GetAsync($"/api/v1/credentials/{id}")).Content.ReadAsStringAsync();

        var problem = await (await host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/credentials/{id}", json)).ProblemAsync(400);

        if (field is not null)
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        }
        Assert.Equal(before, await (await host.Admin.GetAsync($"/api/v1/credentials/{id}")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Problem_ForBadUrl_DoesNotEchoTheUrl()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();

        var response = await host.Admin.PostAsJsonAsync($"/api/v1/users/{user}/credentials",
            new { kind = "git", provider = "github", url = "https://bob:ghp_leakedInUrl@github.com/o", username = "u", secret = Secret });

        var problem = await response.ProblemAsync(400);
        Assert.DoesNotContain("ghp_leakedInUrl", problem.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Array, problem.GetProperty("errors").GetProperty("url").ValueKind);
    }
}
