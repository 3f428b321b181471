using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Xares.Broker.ApiKeys;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Users;

public sealed class UserEndpointsTests
{
    [Fact]
    public async Task Create_ValidBody_Returns201WithLocationAndRecord()
    {
        await using var host = await BrokerTestHost.StartAsync();

        var response = await host.Admin.PostAsJsonAsync("/api/v1/users", new { name = " Alice ", email = "alice@example.test" });

        var body = await response.JsonAsync(201);
        var id = body.Str("id");
        Assert.StartsWith("usr_", id, StringComparison.Ordinal);
        Assert.Equal("Alice", body.Str("name"));
        Assert.Equal("alice@example.test", body.Str("email"));
        Assert.True(body.GetProperty("createdAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal($"/api/v1/users/{id}", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task GetAndList_ExistingUsers_ReturnThem()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");

        var one = await (await host.Admin.GetAsync($"/api/v1/users/{bob}")).JsonAsync(200);
        var all = await (await host.Admin.GetAsync("/api/v1/users")).JsonAsync(200);

        Assert.Equal("bob", one.Str("name"));
        Assert.Equal([alice, bob], all.GetProperty("items").EnumerateArray().Select(u => u.Str("id")).ToArray());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"name\":\"  \"}")]
    [InlineData("{\"name\":\"a\\nb\"}")]
    [InlineData("{\"name\":\"alice\",\"email\":\"not-an-address\"}")]
    [InlineData("{\"name\":\"alice\",\"admin\":true}")]
    [InlineData("{\"name\":")]
    [InlineData("[1,2]")]
    public async Task Create_InvalidBody_Returns400ProblemAndCreatesNothing(string json)
    {
        await using var host = await BrokerTestHost.StartAsync();

        var response = await host.Admin.SendRawAsync(HttpMethod.Post, "/api/v1/users", json);

        await response.ProblemAsync(400);
        Assert.Equal(0L, Count(host, "users"));
    }

    [Fact]
    public async Task Get_UnknownId_Returns404Problem()
    {
        await using var host = await BrokerTestHost.StartAsync();

        await (await host.Admin.GetAsync("/api/v1/users/usr_nope")).ProblemAsync(404, "not-found");
        await (await host.Admin.DeleteAsync("/api/v1/users/usr_nope")).ProblemAsync(404, "not-found");
    }

    [Fact]
    public async Task UserBoundKey_OtherUser_IsNotFoundAndListShowsOnlyOwn()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");
        using var aliceClient = host.CreateClient(await CreateKeyAsync(host, [ApiKeyScopes.UsersRead, ApiKeyScopes.UsersWrite], alice));

        await (await aliceClient.GetAsync($"/api/v1/users/{bob}")).ProblemAsync(404);
        await (await aliceClient.DeleteAsync($"/api/v1/users/{bob}")).ProblemAsync(404);
        var list = await (await aliceClient.GetAsync("/api/v1/users")).JsonAsync(200);
        await (await aliceClient.PostAsJsonAsync("/api/v1/users", new { name = "mallory" })).ProblemAsync(403, "forbidden");

        Assert.Equal([alice], list.GetProperty("items").EnumerateArray().Select(u => u.Str("id")).ToArray());
        Assert.Equal(2L, Count(host, "users"));
    }

    [Fact]
    public async Task Create_KeyWithoutUsersWrite_Returns403()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var reader = host.CreateClient(await CreateKeyAsync(host, [ApiKeyScopes.UsersRead], null));

        await (await reader.PostAsJsonAsync("/api/v1/users", new { name = "x" })).ProblemAsync(403);
        await (await reader.GetAsync("/api/v1/users")).JsonAsync(200);
    }

    [Fact]
    public async Task Delete_UserWithCredentialsAndWorkspace_ShredsRevokesAndAudits()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        var bob = await host.CreateUserAsync("bob");
        var credential = await host.CreateGitCredentialAsync(alice, "https://github.com/org", "x-access-token", "ghp_aliceSecret0001");
        var bobCredential = await host.CreateGitCredentialAsync(bob, "https://github.com/org", "x-access-token", "ghp_bobSecret0001");
        const string workspace = "ws_test_alice";
        await host.Get<WriteQueue>().ExecuteAsync((c, t) => Sql.Execute(c, t,
            "INSERT INTO workspaces (id, user_id, name, created_at) VALUES ($id, $u, 'dev', 0)", ("$id", workspace), ("$u", alice)));

        var response = await host.Admin.DeleteAsync($"/api/v1/users/{alice}");

        Assert.Equal(204, (int)response.StatusCode);
        await (await host.Admin.GetAsync($"/api/v1/users/{alice}")).ProblemAsync(404);
        await (await host.Admin.GetAsync($"/api/v1/credentials/{credential}")).ProblemAsync(404);
        await (await host.Admin.GetAsync($"/api/v1/credentials/{bobCredential}")).JsonAsync(200);
        using var connection = Open(host);
        Assert.Equal(0L, Scalar(connection, "SELECT COUNT(*) FROM credentials WHERE user_id = $p", alice));
        Assert.Equal(1L, Scalar(connection, "SELECT COUNT(*) FROM revocations WHERE kind = 'credential' AND target_id = $p", credential));
        Assert.Equal(1L, Scalar(connection, "SELECT COUNT(*) FROM revocations WHERE kind = 'workspace' AND target_id = $p AND workspace_id = $p", workspace));
        var audit = await (await host.Admin.GetAsync($"/api/v1/audit?userId={alice}")).JsonAsync(200);
        var actions = audit.GetProperty("items").EnumerateArray().Select(i => i.Str("action")).ToList();
        Assert.Equal(["user.delete", "workspace.revoke", "credential.delete", "credential.create", "user.create"], actions);
    }

    internal static async Task<string> CreateKeyAsync(BrokerTestHost host, string[] scopes, string? userId)
    {
        var response = await host.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "test", scopes, userId });
        return (await response.JsonAsync(201)).Str("key");
    }

    internal static SqliteConnection Open(BrokerTestHost host)
    {
        var connection = new SqliteConnection($"Data Source={host.DatabasePath};Pooling=False");
        connection.Open();
        return connection;
    }

    internal static long Count(BrokerTestHost host, string table)
    {
        using var connection = Open(host);
        return Scalar(connection, $"SELECT COUNT(*) FROM {table}", null);
    }

    internal static long Scalar(SqliteConnection connection, string sql, string? parameter) =>
        Convert.ToInt64(Sql.Scalar(connection, null, sql, ("$p", parameter)));
}
