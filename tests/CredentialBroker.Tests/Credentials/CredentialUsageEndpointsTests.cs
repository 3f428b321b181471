using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Credentials;

public sealed class CredentialUsageEndpointsTests : BrokerWithAliceTests
{
    [Fact]
    public async Task Create_WithMonthlyLimit_ShownWithZeroUsageAndNoSecret()
    {
        var created = await (await Host.Admin.PostAsJsonAsync($"/api/v1/users/{Alice}/credentials",
            new { kind = "ai", provider = "openai", secret = "sk-rest-aaaaaaaaaaaa", monthlyLimit = 500 })).JsonAsync(201);

        Assert.Equal(500, created.GetProperty("monthlyLimit").GetInt64());
        var usage = created.GetProperty("usage");
        Assert.Equal(0, usage.GetProperty("totalUses").GetInt64());
        Assert.Equal(0, usage.GetProperty("usesThisMonth").GetInt64());
        Assert.Equal(0, usage.GetProperty("inputTokens").GetInt64());
        Assert.Equal(0, usage.GetProperty("outputTokens").GetInt64());
        Assert.True(usage.IsNull("lastUsedAt"));
        Assert.False(created.GetProperty("limitReached").GetBoolean());
        var listed = await Host.Admin.GetStringAsync($"/api/v1/users/{Alice}/credentials");
        Assert.Contains("\"monthlyLimit\":500", listed, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-rest-aaaaaaaaaaaa", created.GetRawText() + listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithoutMonthlyLimit_Null()
    {
        var created = await (await Host.Admin.PostAsJsonAsync($"/api/v1/users/{Alice}/credentials",
            new { kind = "ai", provider = "groq", secret = "gsk-rest-bbbbbbbbbbb" })).JsonAsync(201);
        Assert.True(created.IsNull("monthlyLimit"));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("\"5\"")]
    [InlineData("true")]
    [InlineData("2000000000")]
    [InlineData("99999999999999999999")]
    public async Task CreateAndPatch_BadMonthlyLimit_ProblemNamingTheField(string value)
    {
        var create = await Host.Admin.SendRawAsync(HttpMethod.Post, $"/api/v1/users/{Alice}/credentials",
            $$"""{"kind":"ai","provider":"openai","secret":"sk-rest-cccccccccccc","monthlyLimit":{{value}}}""");
        var problem = await create.ProblemAsync(400, "validation");
        Assert.True(problem.GetProperty("errors").TryGetProperty("monthlyLimit", out _), problem.GetRawText());
        Assert.DoesNotContain("sk-rest", problem.GetRawText(), StringComparison.Ordinal);

        var id = (await (await Host.Admin.PostAsJsonAsync($"/api/v1/users/{Alice}/credentials",
            new { kind = "ai", provider = "openai", secret = "sk-rest-dddddddddddd", monthlyLimit = 5 })).JsonAsync(201)).Str("id");
        var patch = await Host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/credentials/{id}", $$"""{"monthlyLimit":{{value}}}""");
        Assert.True((await patch.ProblemAsync(400, "validation")).GetProperty("errors").TryGetProperty("monthlyLimit", out _));
        Assert.Equal(5, (await Host.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{id}")).GetProperty("monthlyLimit").GetInt64());
    }

    [Fact]
    public async Task Patch_MonthlyLimit_AbsentKeeps_NumberSets_NullClears()
    {
        var id = (await (await Host.Admin.PostAsJsonAsync($"/api/v1/users/{Alice}/credentials",
            new { kind = "git", provider = "github", url = "https://github.com/org", username = "x-access-token", secret = "ghp_rest_eeeeeeeeeee", monthlyLimit = 5 }))
            .JsonAsync(201)).Str("id");
        var url = $"/api/v1/credentials/{id}";

        var renamed = await (await Host.Admin.SendRawAsync(HttpMethod.Patch, url, """{"name":"work"}""")).JsonAsync(200);
        Assert.Equal(5, renamed.GetProperty("monthlyLimit").GetInt64());
        var raised = await (await Host.Admin.SendRawAsync(HttpMethod.Patch, url, """{"monthlyLimit":7}""")).JsonAsync(200);
        Assert.Equal(7, raised.GetProperty("monthlyLimit").GetInt64());
        var cleared = await (await Host.Admin.SendRawAsync(HttpMethod.Patch, url, """{"monthlyLimit":null}""")).JsonAsync(200);
        Assert.True(cleared.IsNull("monthlyLimit"));
        Assert.Equal("work", cleared.Str("name"));

        var audit = await Host.Admin.GetStringAsync($"/api/v1/audit?credentialId={id}&action=credential.update");
        Assert.Contains("changed monthlyLimit", audit, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_rest_eeeeeeeeeee", audit, StringComparison.Ordinal);
    }
}
