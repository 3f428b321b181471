using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.ApiKeys;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Users;

/// <summary>A user's oidcSubject through REST: set on create and PATCH, unique, validated, audited.</summary>
public sealed class UserSubjectEndpointsTests
{
    [Fact]
    public async Task Create_WithSubject_ReturnsAndStoresIt_WithoutOne_Null()
    {
        await using var host = await BrokerTestHost.StartAsync();

        var linked = await (await host.Admin.PostAsJsonAsync("/api/v1/users", new { name = "Ann", oidcSubject = "ann|4711" })).JsonAsync(201);
        var plain = await (await host.Admin.PostAsJsonAsync("/api/v1/users", new { name = "Bob" })).JsonAsync(201);

        Assert.Equal("ann|4711", linked.Str("oidcSubject"));
        Assert.Equal("ann|4711", (await (await host.Admin.GetAsync($"/api/v1/users/{linked.Str("id")}")).JsonAsync(200)).Str("oidcSubject"));
        Assert.Equal(JsonValueKind.Null, plain.GetProperty("oidcSubject").ValueKind);
    }

    [Fact]
    public async Task CreateOrPatch_SubjectAnotherUserHas_Returns409AndChangesNothing()
    {
        await using var host = await BrokerTestHost.StartAsync();
        await host.Admin.PostAsJsonAsync("/api/v1/users", new { name = "Ann", oidcSubject = "same" });
        var bob = await host.CreateUserAsync("bob");

        await (await host.Admin.PostAsJsonAsync("/api/v1/users", new { name = "Cy", oidcSubject = "same" })).ProblemAsync(409, "conflict");
        await (await host.Admin.PatchJsonAsync($"/api/v1/users/{bob}", new { oidcSubject = "same" })).ProblemAsync(409, "conflict");

        Assert.Equal(2L, UserEndpointsTests.Count(host, "users"));
        Assert.Equal(JsonValueKind.Null, (await (await host.Admin.GetAsync($"/api/v1/users/{bob}")).JsonAsync(200)).GetProperty("oidcSubject").ValueKind);
    }

    [Fact]
    public async Task Patch_SetsChangesAndRemovesFields_AuditsTheChange_NewETag()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var bob = await host.CreateUserAsync("bob");
        var etag = (await host.Admin.GetAsync($"/api/v1/users/{bob}")).Headers.ETag;

        var linked = await host.Admin.PatchJsonAsync($"/api/v1/users/{bob}", new { oidcSubject = "bob-sub", email = "robert@example.test" });
        var body = await linked.JsonAsync(200);
        var unchanged = await (await host.Admin.PatchJsonAsync($"/api/v1/users/{bob}", new { oidcSubject = "bob-sub" })).JsonAsync(200);
        var stale = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/users/{bob}") { Content = JsonContent.Create(new { oidcSubject = (string?)null }) };
        stale.Headers.IfMatch.Add(etag!);
        var refused = await host.Admin.SendAsync(stale);
        var unlinked = await (await host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/users/{bob}", "{\"oidcSubject\":null,\"name\":\"Robert\"}")).JsonAsync(200);

        Assert.Equal(("bob-sub", "robert@example.test", "bob"), (body.Str("oidcSubject"), body.Str("email"), body.Str("name")));
        Assert.NotEqual(etag, linked.Headers.ETag);
        Assert.Equal("bob-sub", unchanged.Str("oidcSubject"));
        await refused.ProblemAsync(412);
        Assert.Equal(JsonValueKind.Null, unlinked.GetProperty("oidcSubject").ValueKind);
        Assert.Equal(("Robert", "robert@example.test"), (unlinked.Str("name"), unlinked.Str("email")));
        var audit = await (await host.Admin.GetAsync($"/api/v1/audit?userId={bob}&action=user.update")).JsonAsync(200);
        var details = audit.GetProperty("items").EnumerateArray().Select(i => i.Str("detail")).ToList();
        Assert.Equal(["name \"bob\" -> \"Robert\"; oidcSubject removed", "email bob@example.test -> robert@example.test; oidcSubject set to \"bob-sub\""], details);
    }

    [Theory]
    [InlineData("{\"name\":\"x\",\"oidcSubject\":\"\"}")]
    [InlineData("{\"name\":\"x\",\"oidcSubject\":\" padded\"}")]
    [InlineData("{\"name\":\"x\",\"oidcSubject\":\"a\\u0000b\"}")]
    [InlineData("{\"name\":\"x\",\"oidcSubject\":7}")]
    public async Task Create_InvalidSubject_Returns400AndCreatesNothing(string json)
    {
        await using var host = await BrokerTestHost.StartAsync();

        var response = await host.Admin.SendRawAsync(HttpMethod.Post, "/api/v1/users", json);

        await response.ProblemAsync(400);
        Assert.Equal(0L, UserEndpointsTests.Count(host, "users"));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"oidcSubject\":\"\"}")]
    [InlineData("{\"oidcSubject\":\"tab\\there\"}")]
    [InlineData("{\"oidcSubject\":3}")]
    [InlineData("{\"name\":null}")]
    [InlineData("{\"email\":\"no-address\"}")]
    [InlineData("{\"oidcSubjects\":\"x\"}")]
    [InlineData("{\"name\":\"\\ud800\"}")]
    [InlineData("{\"email\":\"a\\ud800@example.test\"}")]
    [InlineData("{\"oidcSubject\":\"\\udc00\"}")]
    public async Task Patch_InvalidBody_Returns400(string json)
    {
        await using var host = await BrokerTestHost.StartAsync();
        var bob = await host.CreateUserAsync("bob");

        await (await host.Admin.SendRawAsync(HttpMethod.Patch, $"/api/v1/users/{bob}", json)).ProblemAsync(400);
    }

    [Fact]
    public async Task Patch_SubjectLongerThan255_Returns400_255Accepted()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var bob = await host.CreateUserAsync("bob");

        await (await host.Admin.PatchJsonAsync($"/api/v1/users/{bob}", new { oidcSubject = new string('s', 256) })).ProblemAsync(400, "validation");
        await (await host.Admin.PatchJsonAsync($"/api/v1/users/{bob}", new { oidcSubject = new string('s', 255) })).JsonAsync(200);
    }

    [Fact]
    public async Task Patch_UserBoundKey_Forbidden_UnknownUser_NotFound()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var alice = await host.CreateUserAsync("alice");
        using var aliceClient = host.CreateClient(await UserEndpointsTests.CreateKeyAsync(host, [ApiKeyScopes.UsersRead, ApiKeyScopes.UsersWrite], alice));

        await (await aliceClient.PatchJsonAsync($"/api/v1/users/{alice}", new { oidcSubject = "mine" })).ProblemAsync(403, "forbidden");
        await (await host.Admin.PatchJsonAsync("/api/v1/users/usr_nope", new { oidcSubject = "x" })).ProblemAsync(404, "not-found");
    }
}
