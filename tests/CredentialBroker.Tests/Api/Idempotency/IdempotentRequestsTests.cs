using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Api.Idempotency;

/// <summary>Idempotency-Key through the whole broker (in-process server, real SQLite, real vault).</summary>
public sealed class IdempotentRequestsTests : IAsyncLifetime
{
    private BrokerTestHost _host = null!;

    public async Task InitializeAsync() => _host = await BrokerTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task CreateUser_SameKeyAndBody_ReplaysFirstAnswerAndCreatesOnce()
    {
        var first = await PostAsync(_host.Admin, "/api/v1/users", """{"name":"ann"}""", "k-1");
        var second = await PostAsync(_host.Admin, "/api/v1/users", """{"name":"ann"}""", "k-1");

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Created, second.Status);
        Assert.Equal(first.Body, second.Body);
        Assert.Equal(first.Location, second.Location);
        Assert.Null(first.Replayed);
        Assert.Equal("true", second.Replayed);
        Assert.Equal(1L, await CountAsync("SELECT COUNT(*) FROM users WHERE name = 'ann'"));
        Assert.Equal(1L, await CountAsync("SELECT COUNT(*) FROM audit_log WHERE action = 'user.create'"));
    }

    [Fact]
    public async Task CreateUser_SameKeyOtherBody_422AndNothingCreated()
    {
        await PostAsync(_host.Admin, "/api/v1/users", """{"name":"bea"}""", "k-2");
        var other = await PostAsync(_host.Admin, "/api/v1/users", """{"name":"bob"}""", "k-2");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.Status);
        Assert.EndsWith("#idempotency-key-mismatch", JsonDocument.Parse(other.Body).RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(0L, await CountAsync("SELECT COUNT(*) FROM users WHERE name = 'bob'"));
    }

    [Fact]
    public async Task CreateUser_SameKeyOtherPath_422()
    {
        await PostAsync(_host.Admin, "/api/v1/users", """{"name":"cid"}""", "k-3");
        var user = await _host.CreateUserAsync("dan");
        var credential = await PostAsync(_host.Admin, $"/api/v1/users/{user}/credentials",
            """{"kind":"git","provider":"generic","url":"https://git.example.test","username":"d","secret":"s3cret"}""", "k-3");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, credential.Status);
    }

    [Fact]
    public async Task CreateUser_FailedFirstTry_FreesTheKeyForTheCorrectedRequest()
    {
        var bad = await PostAsync(_host.Admin, "/api/v1/users", """{"name":""}""", "k-4");
        var good = await PostAsync(_host.Admin, "/api/v1/users", """{"name":"eve"}""", "k-4");
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Equal(HttpStatusCode.Created, good.Status);
        Assert.Null(good.Replayed);
    }

    [Fact]
    public async Task CreateApiKey_Retried_SecretReplayedToSameCallerOnlyAndNeverStoredInPlaintext()
    {
        const string body = """{"name":"ci","scopes":["users:read"]}""";
        var first = await PostAsync(_host.Admin, "/api/v1/api-keys", body, "key-1");
        var retry = await PostAsync(_host.Admin, "/api/v1/api-keys", body, "key-1");
        var token = JsonDocument.Parse(first.Body).RootElement.GetProperty("key").GetString()!;
        Assert.Equal(first.Body, retry.Body);

        // Keys are per caller: another API key with the same Idempotency-Key gets its own new key.
        using var other = _host.CreateClient(await NewAdminKeyAsync());
        var theirs = await PostAsync(other, "/api/v1/api-keys", body, "key-1");
        Assert.Equal(HttpStatusCode.Created, theirs.Status);
        Assert.Null(theirs.Replayed);
        Assert.NotEqual(token, JsonDocument.Parse(theirs.Body).RootElement.GetProperty("key").GetString());

        var stored = await _host.Get<Database>().ReadAsync(c => Sql.Query(c, null, "SELECT ciphertext FROM idempotency_keys", r => (byte[])r.GetValue(0)));
        Assert.NotEmpty(stored);
        Assert.All(stored, s => Assert.DoesNotContain(token, Encoding.UTF8.GetString(s), StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreateApiKey_RetryAfterReplayWindow_410AndTheSealedAnswerErased()
    {
        const string body = """{"name":"late","scopes":["users:read"]}""";
        await PostAsync(_host.Admin, "/api/v1/api-keys", body, "key-late");
        await _host.Get<WriteQueue>().ExecuteAsync((c, t) => Sql.Execute(c, t, "UPDATE idempotency_keys SET replay_until = 1 WHERE idempotency_key = 'key-late'"));

        var retry = await PostAsync(_host.Admin, "/api/v1/api-keys", body, "key-late");
        Assert.Equal(HttpStatusCode.Gone, retry.Status);
        Assert.EndsWith("#idempotency-replay-expired", JsonDocument.Parse(retry.Body).RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(1L, await CountAsync("SELECT COUNT(*) FROM api_keys WHERE name = 'late'"));

        await _host.Get<Retention.EndedStatePruner>().PruneAsync();
        Assert.Equal(0L, await CountAsync("SELECT COUNT(*) FROM idempotency_keys WHERE idempotency_key = 'key-late' AND ciphertext IS NOT NULL"));
    }

    [Fact]
    public async Task Prune_KeyPast24Hours_Deleted()
    {
        await PostAsync(_host.Admin, "/api/v1/users", """{"name":"old"}""", "k-old");
        await _host.Get<WriteQueue>().ExecuteAsync((c, t) => Sql.Execute(c, t, "UPDATE idempotency_keys SET expires_at = 1 WHERE idempotency_key = 'k-old'"));
        var pruned = await _host.Get<Retention.EndedStatePruner>().PruneAsync();
        Assert.Equal(1, pruned.IdempotencyKeys);
        Assert.Equal(0L, await CountAsync("SELECT COUNT(*) FROM idempotency_keys WHERE idempotency_key = 'k-old'"));
    }

    [Fact]
    public async Task CreateUser_KeyStillInFlight_409Retryable()
    {
        // What a second replica sees while the first still runs the request: the reservation, no answer yet.
        var hash = new byte[32];
        await _host.Get<WriteQueue>().ExecuteAsync((c, t) => Sql.Execute(c, t,
            "INSERT INTO idempotency_keys (caller_key_id, idempotency_key, request_hash, created_at, expires_at, locked_until) " +
            "SELECT id, 'k-busy', @h, 0, @far, @far FROM api_keys", ("@h", hash), ("@far", DateTimeOffset.UtcNow.AddHours(1).ToDb())));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/users") { Content = new StringContent("""{"name":"fay"}""", Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", "k-busy");
        using var response = await _host.Admin.SendAsync(request);
        // Another body than the reservation's: the mismatch wins, as the draft says.
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);

        var ownHash = await HashOfAsync(HttpMethod.Post, "/api/v1/users", """{"name":"fay"}""");
        await _host.Get<WriteQueue>().ExecuteAsync((c, t) => Sql.Execute(c, t, "UPDATE idempotency_keys SET request_hash = @h WHERE idempotency_key = 'k-busy'", ("@h", ownHash)));
        var busy = await PostAsync(_host.Admin, "/api/v1/users", """{"name":"fay"}""", "k-busy");
        Assert.Equal(HttpStatusCode.Conflict, busy.Status);
        Assert.Equal("1", busy.RetryAfter);
        Assert.EndsWith("#idempotency-key-in-use", JsonDocument.Parse(busy.Body).RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(0L, await CountAsync("SELECT COUNT(*) FROM users WHERE name = 'fay'"));
    }

    private static async Task<byte[]> HashOfAsync(HttpMethod method, string path, string body)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Method = method.Method;
        context.Request.Path = path;
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        return await Broker.Api.Idempotency.IdempotentRequests.HashRequestAsync(context.Request);
    }

    private async Task<string> NewAdminKeyAsync()
    {
        using var response = await _host.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "second admin", scopes = new[] { "admin" } });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    private async Task<long> CountAsync(string sql) =>
        Convert.ToInt64(await _host.Get<Database>().ReadAsync(c => Sql.Scalar(c, null, sql)), System.Globalization.CultureInfo.InvariantCulture);

    internal static async Task<Reply> PostAsync(HttpClient client, string path, string json, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await client.SendAsync(request);
        return new Reply(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Location?.ToString(),
            response.Headers.TryGetValues("Idempotent-Replayed", out var replayed) ? replayed.Single() : null,
            response.Headers.RetryAfter?.ToString());
    }

    internal sealed record Reply(HttpStatusCode Status, string Body, string? Location, string? Replayed, string? RetryAfter);
}
