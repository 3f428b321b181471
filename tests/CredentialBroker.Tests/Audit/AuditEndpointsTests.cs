using System.Net.Http.Json;
using Xares.Broker.ApiKeys;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;
using Xares.Broker.Tests.Users;

namespace Xares.Broker.Tests.Audit;

public sealed class AuditEndpointsTests
{
    [Fact]
    public async Task Query_Filters_ReturnMatchingRecordsNewestFirst()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");
        var aliceCredential = await host.CreateGitCredentialAsync(alice, "https://github.com/a", "u", "ghp_AuditSecret000000000001");
        await host.CreateGitCredentialAsync(bob, "https://github.com/b", "u", "ghp_AuditSecret000000000002");
        await host.Admin.PatchJsonAsync($"/api/v1/credentials/{aliceCredential}", new { name = "renamed" });

        var byUser = await Items(host, $"/api/v1/audit?userId={alice}");
        var byCredential = await Items(host, $"/api/v1/audit?credentialId={aliceCredential}");
        var byAction = await Items(host, "/api/v1/audit?action=credential.create");
        var combined = await Items(host, $"/api/v1/audit?userId={bob}&action=credential.create");

        Assert.Equal(["credential.update", "credential.create", "user.create"], byUser.Select(i => i.Str("action")).ToArray());
        Assert.All(byUser, i => Assert.Equal(alice, i.Str("userId")));
        Assert.Equal(["credential.update", "credential.create"], byCredential.Select(i => i.Str("action")).ToArray());
        Assert.Equal(2, byAction.Count);
        Assert.True(byAction[0].GetProperty("sequence").GetInt64() > byAction[1].GetProperty("sequence").GetInt64());
        var single = Assert.Single(combined);
        Assert.Equal(bob, single.Str("userId"));
        Assert.StartsWith("apikey:key_", single.Str("actor"), StringComparison.Ordinal);
        foreach (var property in new[] { "sequence", "at", "action", "outcome", "actor", "userId", "workspaceId", "credentialId", "leaseId", "remoteAddress", "detail" })
        {
            Assert.True(single.TryGetProperty(property, out _), property);
        }
    }

    [Fact]
    public async Task Query_LimitAndSince_BoundTheResult()
    {
        await using var host = await BrokerTestHost.StartAsync();
        for (var i = 0; i < 5; i++)
        {
            await host.CreateUserAsync($"u{i}");
        }
        var all = await Items(host, "/api/v1/audit");

        var limited = await Items(host, "/api/v1/audit?limit=2");
        var since = all[1].GetProperty("at").GetDateTimeOffset();
        var recent = await Items(host, $"/api/v1/audit?since={Uri.EscapeDataString(since.ToString("O"))}");
        var future = await Items(host, "/api/v1/audit?since=2999-01-01T00:00:00Z");

        Assert.Equal(6, all.Count); // the initial admin key, then five users
        Assert.Equal(all.Take(2).Select(i => i.GetProperty("sequence").GetInt64()), limited.Select(i => i.GetProperty("sequence").GetInt64()));
        Assert.All(recent, i => Assert.True(i.GetProperty("at").GetDateTimeOffset() >= since));
        Assert.Contains(recent, i => i.GetProperty("sequence").GetInt64() == all[1].GetProperty("sequence").GetInt64());
        Assert.Empty(future);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("since=yesterday", "since")]
    public async Task Query_BadParameters_Return400(string query, string field)
    {
        await using var host = await BrokerTestHost.StartAsync();

        var problem = await (await host.Admin.GetAsync($"/api/v1/audit?{query}")).ProblemAsync(400, "validation");

        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Query_UserBoundKey_SeesOnlyItsUsersRecords()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");
        using var aliceClient = host.CreateClient(await UserEndpointsTests.CreateKeyAsync(host, [ApiKeyScopes.AuditRead], alice));

        var own = await (await aliceClient.GetAsync("/api/v1/audit")).JsonAsync(200);
        await (await aliceClient.GetAsync($"/api/v1/audit?userId={bob}")).ProblemAsync(404);

        var items = own.GetProperty("items").EnumerateArray().ToList();
        Assert.NotEmpty(items);
        Assert.All(items, i => Assert.Equal(alice, i.Str("userId")));
    }

    [Fact]
    public async Task Verify_UserBoundKey_Returns403WithoutTheCount()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");
        await host.CreateGitCredentialAsync(bob, "https://github.com/b", "u", "ghp_VerifySecret0000000002");
        using var aliceClient = host.CreateClient(await UserEndpointsTests.CreateKeyAsync(host, [ApiKeyScopes.AuditRead], alice));

        var problem = await (await aliceClient.GetAsync("/api/v1/audit/verify")).ProblemAsync(403, "forbidden");

        Assert.False(problem.TryGetProperty("verifiedRecords", out _));
        // An unbound key with the same scope still verifies.
        using var unbound = host.CreateClient(await UserEndpointsTests.CreateKeyAsync(host, [ApiKeyScopes.AuditRead], null));
        Assert.True((await (await unbound.GetAsync("/api/v1/audit/verify")).JsonAsync(200)).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Query_KeyWithoutAuditRead_Returns403()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var client = host.CreateClient(await UserEndpointsTests.CreateKeyAsync(host, [ApiKeyScopes.UsersRead], null));

        await (await client.GetAsync("/api/v1/audit")).ProblemAsync(403);
        await (await client.GetAsync("/api/v1/audit/verify")).ProblemAsync(403);
    }

    [Fact]
    public async Task Verify_IntactChain_ReportsOk()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.CreateGitCredentialAsync(user, "https://github.com/o", "u", "ghp_VerifySecret0000000001");

        var body = await (await host.Admin.GetAsync("/api/v1/audit/verify")).JsonAsync(200);

        Assert.True(body.GetProperty("ok").GetBoolean());
        Assert.Equal(3, body.GetProperty("verifiedRecords").GetInt64());
        Assert.True(body.IsNull("firstBrokenSequence"));
        Assert.True(body.IsNull("problem"));
    }

    [Fact]
    public async Task Verify_RowEditedInDatabase_ReportsFirstBrokenSequence()
    {
        await using var host = await BrokerTestHost.StartAsync();
        await host.CreateUserAsync("a");
        await host.CreateUserAsync("b");
        await host.CreateUserAsync("c");
        using (var connection = UserEndpointsTests.Open(host))
        {
            UserEndpointsTests.Scalar(connection, "UPDATE audit_log SET actor = $p WHERE seq = 3", "system");
        }

        var body = await (await host.Admin.GetAsync("/api/v1/audit/verify")).JsonAsync(200);

        Assert.False(body.GetProperty("ok").GetBoolean());
        Assert.Equal(3, body.GetProperty("firstBrokenSequence").GetInt64());
        Assert.Equal(2, body.GetProperty("verifiedRecords").GetInt64());
        Assert.False(string.IsNullOrEmpty(body.Str("problem")));
    }

    private static async Task<List<System.Text.Json.JsonElement>> Items(BrokerTestHost host, string url) =>
        (await (await host.Admin.GetAsync(url)).JsonAsync(200)).GetProperty("items").EnumerateArray().ToList();
}
