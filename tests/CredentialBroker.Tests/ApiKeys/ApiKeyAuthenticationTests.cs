using System.Net.Http.Json;
using Xares.Broker.ApiKeys;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;
using Xares.Broker.Tests.Users;

namespace Xares.Broker.Tests.ApiKeys;

public sealed class ApiKeyAuthenticationTests
{
    [Fact]
    public async Task Request_WithoutKey_Returns401Problem()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var anonymous = host.CreateClient(null);

        var response = await anonymous.GetAsync("/api/v1/users");

        await response.ProblemAsync(401, "unauthorized");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        await (await anonymous.PostAsJsonAsync("/api/v1/users", new { name = "x" })).ProblemAsync(401);
        Assert.Equal(0L, UserEndpointsTests.Count(host, "users"));
    }

    [Theory]
    [InlineData("xar_thisIsNotARealKeyButHasTheRightShape000000000")]
    [InlineData("not-a-key")]
    public async Task Request_WithWrongKey_Returns401AndIsAudited(string key)
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var client = host.CreateClient(key);

        await (await client.PostAsJsonAsync("/api/v1/users", new { name = "x" })).ProblemAsync(401);

        Assert.Equal(0L, UserEndpointsTests.Count(host, "users"));
        var audit = await (await host.Admin.GetAsync("/api/v1/audit?action=auth.failure")).JsonAsync(200);
        var entry = Assert.Single(audit.GetProperty("items").EnumerateArray());
        Assert.DoesNotContain(key, entry.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_WithExpiredKey_Returns401()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var now = DateTimeOffset.UtcNow;
        var (_, token) = await host.Get<WriteQueue>().ExecuteAsync((c, t) =>
            ApiKeyStore.Insert(c, t, "old", [ApiKeyScopes.Admin], null, now.AddHours(-2), now.AddHours(-1)));
        using var client = host.CreateClient(token);

        await (await client.GetAsync("/api/v1/users")).ProblemAsync(401, "unauthorized");
        await (await client.PostAsJsonAsync("/api/v1/users", new { name = "x" })).ProblemAsync(401);
        Assert.Equal(0L, UserEndpointsTests.Count(host, "users"));
    }
}
