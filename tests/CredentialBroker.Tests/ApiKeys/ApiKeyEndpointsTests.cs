using System.Net.Http.Json;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;
using Xares.Broker.Tests.Users;

namespace Xares.Broker.Tests.ApiKeys;

public sealed class ApiKeyEndpointsTests
{
    [Fact]
    public async Task Create_AdminKey_ReturnsKeyOnceAndItAuthenticates()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();

        var response = await host.Admin.PostAsJsonAsync("/api/v1/api-keys",
            new { name = "platform", scopes = new[] { ApiKeyScopes.UsersRead, ApiKeyScopes.CredentialsRead }, userId = user });

        var body = await response.JsonAsync(201);
        var key = body.Str("key");
        Assert.StartsWith("xar_", key, StringComparison.Ordinal);
        Assert.Equal(key[..8], body.Str("prefix"));
        Assert.Equal([ApiKeyScopes.CredentialsRead, ApiKeyScopes.UsersRead], body.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!).ToArray());
        Assert.Equal(user, body.Str("userId"));
        Assert.True(body.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(89));
        using var client = host.CreateClient(key);
        await (await client.GetAsync($"/api/v1/users/{user}")).JsonAsync(200);

        var listText = await (await host.Admin.GetAsync("/api/v1/api-keys")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(key, listText, StringComparison.Ordinal);
        Assert.DoesNotContain(key[8..], listText, StringComparison.Ordinal);
        Assert.Contains(body.Str("id"), listText, StringComparison.Ordinal);
        Assert.DoesNotContain("\"key\"", listText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_DefaultScopes_AreTheCallers()
    {
        await using var host = await BrokerTestHost.StartAsync();

        var body = await (await host.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "copy" })).JsonAsync(201);

        Assert.Equal([ApiKeyScopes.Admin], body.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!).ToArray());
        Assert.True(body.IsNull("userId"));
    }

    [Fact]
    public async Task Revoke_Key_StopsItAndIsAudited()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var created = await (await host.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "temp", scopes = new[] { ApiKeyScopes.UsersRead } }))
            .JsonAsync(201);
        using var client = host.CreateClient(created.Str("key"));
        await (await client.GetAsync("/api/v1/users")).JsonAsync(200);

        Assert.Equal(204, (int)(await host.Admin.DeleteAsync($"/api/v1/api-keys/{created.Str("id")}")).StatusCode);
        Assert.Equal(204, (int)(await host.Admin.DeleteAsync($"/api/v1/api-keys/{created.Str("id")}")).StatusCode);

        await (await client.GetAsync("/api/v1/users")).ProblemAsync(401, "unauthorized");
        var list = await (await host.Admin.GetAsync("/api/v1/api-keys")).JsonAsync(200);
        var item = list.GetProperty("items").EnumerateArray().Single(k => k.Str("id") == created.Str("id"));
        Assert.False(item.IsNull("revokedAt"));
        var audit = await (await host.Admin.GetAsync("/api/v1/audit?action=apikey.revoke")).JsonAsync(200);
        Assert.Single(audit.GetProperty("items").EnumerateArray());
        await (await host.Admin.DeleteAsync("/api/v1/api-keys/key_missing")).ProblemAsync(404);
    }

    [Fact]
    public async Task NonAdminKey_CannotManageKeysOrMintBroaderOnes()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var reader = host.CreateClient(await UserEndpointsTests.CreateKeyAsync(host, [ApiKeyScopes.UsersRead], null));

        await (await reader.PostAsJsonAsync("/api/v1/api-keys", new { name = "escalate", scopes = new[] { ApiKeyScopes.Admin } })).ProblemAsync(403, "forbidden");
        await (await reader.PostAsJsonAsync("/api/v1/api-keys", new { name = "same", scopes = new[] { ApiKeyScopes.UsersRead } })).ProblemAsync(403);
        await (await reader.GetAsync("/api/v1/api-keys")).ProblemAsync(403);

        Assert.Equal(2L, UserEndpointsTests.Count(host, "api_keys"));
    }

    [Fact]
    public async Task UserBoundAdminKey_CannotMintUnboundOrOtherUsersKeys()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");
        using var aliceAdmin = host.CreateClient(await UserEndpointsTests.CreateKeyAsync(host, [ApiKeyScopes.Admin], alice));

        await (await aliceAdmin.PostAsJsonAsync("/api/v1/api-keys", new { name = "b", userId = bob })).ProblemAsync(404, "not-found");
        var own = await (await aliceAdmin.PostAsJsonAsync("/api/v1/api-keys", new { name = "a", scopes = new[] { ApiKeyScopes.UsersRead } })).JsonAsync(201);
        var list = await (await aliceAdmin.GetAsync("/api/v1/api-keys")).JsonAsync(200);

        Assert.Equal(alice, own.Str("userId"));
        Assert.All(list.GetProperty("items").EnumerateArray(), k => Assert.Equal(alice, k.Str("userId")));
    }

    [Theory]
    [InlineData("{\"scopes\":[\"users:read\"]}", "name")]
    [InlineData("{\"name\":\"k\",\"scopes\":[]}", "scopes")]
    [InlineData("{\"name\":\"k\",\"scopes\":[\"root\"]}", "scopes")]
    [InlineData("{\"name\":\"k\",\"expiresAt\":\"2001-01-01T00:00:00Z\"}", "expiresAt")]
    [InlineData("{\"name\":\"k\",\"expiresAt\":\"2999-01-01T00:00:00Z\"}", "expiresAt")]
    [InlineData("{\"name\":\"k\",\"token\":\"xar_mine\"}", null)]
    public async Task Create_InvalidBody_Returns400AndCreatesNothing(string json, string? field)
    {
        await using var host = await BrokerTestHost.StartAsync();

        var problem = await (await host.Admin.SendRawAsync(HttpMethod.Post, "/api/v1/api-keys", json)).ProblemAsync(400);

        if (field is not null)
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
        }
        Assert.Equal(1L, UserEndpointsTests.Count(host, "api_keys"));
    }

    [Fact]
    public async Task Create_UnknownUser_Returns404()
    {
        await using var host = await BrokerTestHost.StartAsync();

        await (await host.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "k", userId = "usr_missing" })).ProblemAsync(404);
    }

    [Theory]
    [InlineData(new[] { "admin" }, null, new[] { "users:read", "admin" }, null, true)]
    [InlineData(new[] { "users:read", "users:write" }, null, new[] { "users:read" }, null, true)]
    [InlineData(new[] { "users:read" }, null, new[] { "users:read", "users:write" }, null, false)]
    [InlineData(new[] { "users:read" }, null, new[] { "admin" }, null, false)]
    [InlineData(new[] { "users:read" }, "usr_a", new[] { "users:read" }, "usr_a", true)]
    [InlineData(new[] { "users:read" }, "usr_a", new[] { "users:read" }, null, false)]
    [InlineData(new[] { "admin" }, "usr_a", new[] { "users:read" }, "usr_b", false)]
    public void EnsureMayGrant_ScopesAndBinding_AllowsOnlySubsets(string[] callerScopes, string? callerUser, string[] requested, string? requestedUser, bool allowed)
    {
        var caller = new Caller("key_test", callerScopes.ToHashSet(), callerUser);

        var error = Record.Exception(() => ApiKeyEndpoints.EnsureMayGrant(caller, requested, requestedUser));

        Assert.Equal(allowed, error is null);
        Assert.True(allowed || error is ForbiddenException or NotFoundException);
    }
}
