using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Connections;

/// <summary>POST/GET/DELETE /api/v1/oauth-providers and the connection routes that need no provider call, in process.</summary>
public sealed class OAuthProviderEndpointsTests : IAsyncLifetime
{
    private const string Secret = "gloas-0123456789abcdef-client-secret";
    private BrokerTestHost _host = null!;

    public async Task InitializeAsync() => _host = await BrokerTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<HttpResponseMessage> RegisterAsync(object body) => _host.Admin.PostAsJsonAsync("/api/v1/oauth-providers", body);

    private static object GitLab(string name = "gitlab", string baseUrl = "https://gitlab.example.com") =>
        new { name, kind = "gitlab", baseUrl, clientId = "app-123", clientSecret = Secret };

    [Fact]
    public async Task Register_GitLabKind_FillsEndpointsFromBaseUrl_ResponsesAndAuditNeverShowTheSecret()
    {
        var response = await RegisterAsync(GitLab());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("oauthp_", created.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("https://gitlab.example.com/oauth/token", created.GetProperty("tokenUrl").GetString());
        Assert.Equal("https://gitlab.example.com/oauth/authorize_device", created.GetProperty("deviceAuthorizationUrl").GetString());
        Assert.Equal("https://gitlab.example.com/oauth/revoke", created.GetProperty("revocationUrl").GetString());
        Assert.Equal("https://gitlab.example.com", created.GetProperty("gitUrl").GetString());
        Assert.Equal("oauth2", created.GetProperty("gitUsername").GetString());
        Assert.Equal("basic", created.GetProperty("clientAuth").GetString());
        Assert.Equal(["read_repository", "write_repository"], created.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("…cret", created.GetProperty("clientSecretHint").GetString());

        var id = created.GetProperty("id").GetString();
        foreach (var path in new[] { $"/api/v1/oauth-providers/{id}", "/api/v1/oauth-providers", "/api/v1/audit?action=oauth_provider.register" })
        {
            var text = await _host.Admin.GetStringAsync(path);
            Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
            Assert.Contains(id!, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Register_InvalidFields_400NamingEachWithoutEchoingValues_NothingStored()
    {
        var response = await RegisterAsync(new
        {
            name = "bad name", kind = "myspace", tokenUrl = "ftp://x", clientId = "", clientSecret = "", gitUrl = "https://u:p@git.example.com/path",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "name", "kind", "tokenUrl", "clientId", "clientSecret", "gitUrl" })
        {
            Assert.True(errors.TryGetProperty(field, out _), field);
        }
        var list = await _host.Admin.GetFromJsonAsync<JsonElement>("/api/v1/oauth-providers");
        Assert.Empty(list.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Register_UnknownMember_400()
    {
        var response = await RegisterAsync(new { name = "x", kind = "gitlab", baseUrl = "https://g.example.com", clientId = "a", clientSecrett = Secret });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Register_SameNameOrGitHostTwice_409()
    {
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(GitLab())).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await RegisterAsync(GitLab("gitlab", "https://other.example.com"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await RegisterAsync(GitLab("gitlab2"))).StatusCode);
    }

    [Fact]
    public async Task StartConnection_ProviderWithoutDeviceEndpoint_400_UnknownProvider_404_NothingStored()
    {
        var userId = await _host.CreateUserAsync();
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(new
        {
            name = "forgejo", kind = "forgejo", baseUrl = "https://code.example.com", clientId = "c", clientSecret = Secret,
        })).StatusCode);

        var noDevice = await _host.Admin.PostAsJsonAsync($"/api/v1/users/{userId}/connections", new { providerId = "forgejo" });
        Assert.Equal(HttpStatusCode.BadRequest, noDevice.StatusCode);
        Assert.Contains("deviceAuthorizationUrl", await noDevice.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var unknown = await _host.Admin.PostAsJsonAsync($"/api/v1/users/{userId}/connections", new { providerId = "nope" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var list = await _host.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{userId}/connections");
        Assert.Empty(list.GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.GetAsync("/api/v1/connections/conn_missing")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.DeleteAsync("/api/v1/connections/conn_missing")).StatusCode);
    }

    [Fact]
    public async Task DeleteProvider_NoConnections_204AndAudited()
    {
        var id = (await (await RegisterAsync(GitLab())).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await _host.Admin.DeleteAsync($"/api/v1/oauth-providers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Admin.GetAsync($"/api/v1/oauth-providers/{id}")).StatusCode);
        Assert.Contains("oauth_provider.delete", await _host.Admin.GetStringAsync("/api/v1/audit?action=oauth_provider.delete"), StringComparison.Ordinal);
    }
}
