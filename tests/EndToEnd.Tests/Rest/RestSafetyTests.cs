using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Xares.EndToEnd.Tests.Rest;

/// <summary>
/// Idempotency-Key and If-Match against the published broker over real HTTP: a retried create
/// makes one workspace (and one audit record), another body under the key is refused, a retried
/// API-key create replays the same key to the same caller only, a stale If-Match changes nothing
/// and a current one deletes.
/// </summary>
public sealed class RestSafetyTests : IAsyncLifetime
{
    private readonly ScratchDirectory _directory = ScratchDirectory.Create();
    private BrokerProcess _broker = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerProcess.StartAsync(_directory);
        _admin = Client(_broker.AdminKey);
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _broker.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task CreateWorkspace_RetriedWithOneKey_OneWorkspaceOneAuditRecord_OtherBody422()
    {
        var user = await CreateUserAsync("ann");
        var body = $$"""{"userId":"{{user}}","name":"retried"}""";

        using var first = await PostAsync(_admin, "api/v1/workspaces", body, "ws-create-1");
        using var retry = await PostAsync(_admin, "api/v1/workspaces", body, "ws-create-1");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());

        var workspaces = await _admin.GetFromJsonAsync<JsonElement>($"api/v1/workspaces?userId={user}");
        Assert.Single(workspaces.GetProperty("items").EnumerateArray());
        var audit = await _admin.GetFromJsonAsync<JsonElement>($"api/v1/audit?userId={user}&action=workspace.create");
        Assert.Single(audit.GetProperty("items").EnumerateArray());

        using var other = await PostAsync(_admin, "api/v1/workspaces", $$"""{"userId":"{{user}}","name":"another"}""", "ws-create-1");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("idempotency-key-mismatch", (await other.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Single((await _admin.GetFromJsonAsync<JsonElement>($"api/v1/workspaces?userId={user}")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task CreateApiKey_Retried_SameKeyToSameCaller_AnotherCallerGetsItsOwn()
    {
        const string body = """{"name":"deploy","scopes":["admin"]}""";
        using var first = await PostAsync(_admin, "api/v1/api-keys", body, "key-create-1");
        using var retry = await PostAsync(_admin, "api/v1/api-keys", body, "key-create-1");
        var token = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        Assert.Equal(token, (await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());

        using var other = Client(token);
        using var theirs = await PostAsync(other, "api/v1/api-keys", body, "key-create-1");
        Assert.Equal(HttpStatusCode.Created, theirs.StatusCode);
        Assert.False(theirs.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(token, (await theirs.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        var keys = await _admin.GetFromJsonAsync<JsonElement>("api/v1/api-keys");
        Assert.Equal(2, keys.GetProperty("items").EnumerateArray().Count(k => k.GetProperty("name").GetString() == "deploy"));
        // Never in the broker's log or its data directory in plaintext.
        Assert.DoesNotContain(token, await File.ReadAllTextAsync(_broker.LogFile), StringComparison.Ordinal);
        Assert.Empty(SecretScanner.FindFilesContaining(token, [_broker.DataDirectory]));
    }

    [Fact]
    public async Task PatchWithStaleIfMatch_412AndNothingChanged_DeleteWithCurrentIfMatch_Deleted()
    {
        var user = await CreateUserAsync("bea");
        using var created = await _admin.PostAsJsonAsync($"api/v1/users/{user}/credentials",
            new { kind = "git", provider = "generic", url = "https://git.example.test", username = "bea", secret = "s3cret-e2e-etag" });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var read = await _admin.GetAsync($"api/v1/credentials/{id}");
        var stale = read.Headers.ETag!;

        using var edit = await SendAsync(HttpMethod.Patch, $"api/v1/credentials/{id}", stale.Tag, new { name = "alice's edit" });
        Assert.Equal(HttpStatusCode.OK, edit.StatusCode);
        using var lost = await SendAsync(HttpMethod.Patch, $"api/v1/credentials/{id}", stale.Tag, new { name = "bob's edit" });
        Assert.Equal(HttpStatusCode.PreconditionFailed, lost.StatusCode);
        Assert.EndsWith("precondition-failed", (await lost.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);
        using var now = await _admin.GetAsync($"api/v1/credentials/{id}");
        Assert.Equal("alice's edit", (await now.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
        Assert.Equal(edit.Headers.ETag, now.Headers.ETag);

        using var staleDelete = await SendAsync(HttpMethod.Delete, $"api/v1/credentials/{id}", stale.Tag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleDelete.StatusCode);
        using var delete = await SendAsync(HttpMethod.Delete, $"api/v1/credentials/{id}", now.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"api/v1/credentials/{id}")).StatusCode);
    }

    private HttpClient Client(string apiKey)
    {
        var client = new HttpClient { BaseAddress = new Uri(_broker.RestUrl.TrimEnd('/') + "/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    private async Task<string> CreateUserAsync(string name)
    {
        using var response = await _admin.PostAsJsonAsync("api/v1/users", new { name });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string json, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string ifMatch, object? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return _admin.SendAsync(request);
    }
}
