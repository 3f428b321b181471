using System.Net.Http.Json;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Api;

public sealed class NoStoreResponsesTests
{
    [Fact]
    public async Task SecretCarryingResponses_SayNoStore()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();

        var createKey = await host.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "platform" });
        var keyId = (await createKey.JsonAsync(201)).Str("id");
        var rotateKey = await host.Admin.PostAsJsonAsync($"/api/v1/api-keys/{keyId}/rotate", new { graceSeconds = 0 });
        var createWorkspace = await host.Admin.PostAsJsonAsync("/api/v1/workspaces", new { userId = user, name = "ws" });
        var workspaceId = (await createWorkspace.JsonAsync(201)).Str("id");
        var mintBootstrap = await host.Admin.PostAsJsonAsync($"/api/v1/workspaces/{workspaceId}/bootstrap", new { });

        await rotateKey.JsonAsync(201);
        await mintBootstrap.JsonAsync(201);
        AssertNoStore(createKey);
        AssertNoStore(rotateKey);
        AssertNoStore(createWorkspace);
        AssertNoStore(mintBootstrap);
    }

    [Fact]
    public async Task OtherApiResponses_ProblemsIncluded_SayNoStore_ProbesDoNot()
    {
        await using var host = await BrokerTestHost.StartAsync();

        AssertNoStore(await host.Admin.GetAsync("/api/v1/users"));
        AssertNoStore(await host.Admin.GetAsync("/api/v1/users/usr_nope"));
        using var anonymous = host.CreateClient(null);
        AssertNoStore(await anonymous.GetAsync("/api/v1/users"));
        Assert.False((await anonymous.GetAsync("/healthz")).Headers.CacheControl?.NoStore ?? false);
    }

    private static void AssertNoStore(HttpResponseMessage response) =>
        Assert.True(response.Headers.CacheControl?.NoStore ?? false, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} lacks Cache-Control: no-store");
}
