using System.Net;
using System.Text.Json;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Api;

public sealed class OpenApiDocumentTests
{
    [Fact]
    public async Task Document_CoversEveryRestRouteOfTheContract()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var anonymous = host.CreateClient(null);

        using var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));

        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        string[] contract =
        [
            "/api/v1/users", "/api/v1/users/{id}", "/api/v1/users/{userId}/credentials", "/api/v1/credentials/{id}",
            "/api/v1/workspaces", "/api/v1/workspaces/{id}", "/api/v1/workspaces/{id}/bootstrap",
            "/api/v1/leases", "/api/v1/leases/{id}", "/api/v1/audit", "/api/v1/audit/verify", "/api/v1/api-keys", "/api/v1/api-keys/{id}",
        ];
        Assert.All(contract, path => Assert.Contains(path, paths));
        Assert.True(document.RootElement.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("apiKey", out _));
    }

    [Theory]
    [InlineData("/api/v1/users", "post", "CreateUserRequest", "name")]
    [InlineData("/api/v1/users/{userId}/credentials", "post", "CreateCredentialRequest", "kind,provider,secret")]
    [InlineData("/api/v1/credentials/{id}", "patch", "UpdateCredentialRequest", "")]
    [InlineData("/api/v1/api-keys", "post", "CreateApiKeyRequest", "name")]
    [InlineData("/api/v1/api-keys/{id}/rotate", "post", "RotateApiKeyRequest", "")]
    public async Task BodiesReadByHand_AreDocumentedWithWhatTheyRequire(string path, string method, string schema, string required)
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var anonymous = host.CreateClient(null);

        using var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));

        var body = document.RootElement.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("requestBody");
        Assert.Equal($"#/components/schemas/{schema}", body.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        var definition = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty(schema);
        var documented = definition.TryGetProperty("required", out var list) ? list.EnumerateArray().Select(r => r.GetString()).Order().ToArray() : [];
        Assert.Equal(required.Split(',', StringSplitOptions.RemoveEmptyEntries).Order().ToArray(), documented);
    }

    [Fact]
    public async Task ReferencePage_IsServed()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var anonymous = host.CreateClient(null);

        var redirect = await anonymous.GetAsync("/docs");
        var response = redirect.StatusCode == HttpStatusCode.Found ? await anonymous.GetAsync(redirect.Headers.Location) : redirect;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("text/html", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
    }
}
