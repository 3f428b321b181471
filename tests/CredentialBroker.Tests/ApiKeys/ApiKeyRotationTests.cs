using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.ApiKeys;

public sealed class ApiKeyRotationTests
{
    [Fact]
    public async Task Rotate_WithGrace_BothKeysWorkThenOnlyTheNewOne()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var (oldId, oldKey) = await CreateKeyAsync(host);

        var response = await host.Admin.PostAsJsonAsync($"/api/v1/api-keys/{oldId}/rotate", new { graceSeconds = 600 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var newKey = body.RootElement.GetProperty("key").GetProperty("key").GetString()!;
        Assert.StartsWith("xar_", newKey, StringComparison.Ordinal);
        Assert.Equal(oldId, body.RootElement.GetProperty("previousKeyId").GetString());
        Assert.InRange(body.RootElement.GetProperty("previousKeyExpiresAt").GetDateTimeOffset() - DateTimeOffset.UtcNow,
            TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10.1));

        Assert.Equal(HttpStatusCode.OK, await StatusWithAsync(host, oldKey));
        Assert.Equal(HttpStatusCode.OK, await StatusWithAsync(host, newKey));

        // The grace period ends: only the new key still works.
        using (var connection = new SqliteConnection($"Data Source={host.DatabasePath}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE api_keys SET expires_at = 1 WHERE id = $id";
            command.Parameters.AddWithValue("$id", oldId);
            command.ExecuteNonQuery();
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWithAsync(host, oldKey));
        Assert.Equal(HttpStatusCode.OK, await StatusWithAsync(host, newKey));
        Assert.Contains("apikey.rotate", await host.Admin.GetStringAsync("/api/v1/audit?action=apikey.rotate"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"graceSeconds\":-1}")]
    [InlineData("{\"graceSeconds\":999999999}")]
    [InlineData("{\"graceSeconds\":\"soon\"}")]
    public async Task Rotate_BadGrace_400AndNothingChanged(string json)
    {
        await using var host = await BrokerTestHost.StartAsync();
        var (oldId, oldKey) = await CreateKeyAsync(host);

        var response = await host.Admin.PostAsync($"/api/v1/api-keys/{oldId}/rotate", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, await StatusWithAsync(host, oldKey));
    }

    [Fact]
    public async Task Rotate_UnknownKey_404()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var response = await host.Admin.PostAsync("/api/v1/api-keys/key_nope/rotate", null);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Authenticate_UsedKey_RecordsLastUsed()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var (id, key) = await CreateKeyAsync(host);
        await StatusWithAsync(host, key);

        var list = await host.Admin.GetStringAsync("/api/v1/api-keys");
        using var document = JsonDocument.Parse(list);
        var item = document.RootElement.GetProperty("items").EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        Assert.NotEqual(JsonValueKind.Null, item.GetProperty("lastUsedAt").ValueKind);
        Assert.DoesNotContain(key, list, StringComparison.Ordinal);
    }

    private static async Task<(string Id, string Key)> CreateKeyAsync(BrokerTestHost host)
    {
        var response = await host.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "ci", scopes = new[] { "users:read" } });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (body.RootElement.GetProperty("id").GetString()!, body.RootElement.GetProperty("key").GetString()!);
    }

    private static async Task<HttpStatusCode> StatusWithAsync(BrokerTestHost host, string key)
    {
        using var client = host.CreateClient(key);
        return (await client.GetAsync("/api/v1/users")).StatusCode;
    }
}
