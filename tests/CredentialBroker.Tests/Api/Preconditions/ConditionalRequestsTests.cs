using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Api.Preconditions;

/// <summary>ETag, If-Match and If-None-Match through the whole broker (in-process server, real SQLite).</summary>
public sealed class ConditionalRequestsTests : IAsyncLifetime
{
    private BrokerTestHost _host = null!;
    private string _user = null!;

    public async Task InitializeAsync()
    {
        _host = await BrokerTestHost.StartAsync();
        _user = await _host.CreateUserAsync("ann");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Get_EveryRead_SameStrongETagUntilTheResourceChanges()
    {
        var id = await _host.CreateGitCredentialAsync(_user, "https://git.example.test", "ann", "s3cret-one");
        var first = await _host.Admin.GetAsync($"/api/v1/credentials/{id}");
        var again = await _host.Admin.GetAsync($"/api/v1/credentials/{id}");
        Assert.NotNull(first.Headers.ETag);
        Assert.False(first.Headers.ETag!.IsWeak);
        Assert.Equal(first.Headers.ETag, again.Headers.ETag);

        var patched = await SendAsync(HttpMethod.Patch, $"/api/v1/credentials/{id}", first.Headers.ETag.Tag, new { name = "renamed" });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var after = await _host.Admin.GetAsync($"/api/v1/credentials/{id}");
        Assert.NotEqual(first.Headers.ETag, after.Headers.ETag);
        Assert.Equal(after.Headers.ETag, patched.Headers.ETag);
    }

    [Fact]
    public async Task Patch_StaleIfMatch_412AndNothingChanged()
    {
        var id = await _host.CreateGitCredentialAsync(_user, "https://git.example.test", "ann", "s3cret-two");
        var stale = (await _host.Admin.GetAsync($"/api/v1/credentials/{id}")).Headers.ETag!.Tag;
        (await SendAsync(HttpMethod.Patch, $"/api/v1/credentials/{id}", null, new { name = "first edit" })).EnsureSuccessStatusCode();

        var second = await SendAsync(HttpMethod.Patch, $"/api/v1/credentials/{id}", stale, new { name = "second edit" });
        Assert.Equal(HttpStatusCode.PreconditionFailed, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("#precondition-failed", (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);
        var current = await _host.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{id}");
        Assert.Equal("first edit", current.GetProperty("name").GetString());
        Assert.Equal(1L, await CountAsync($"SELECT COUNT(*) FROM audit_log WHERE action = 'credential.update' AND credential_id = '{id}'"));
    }

    [Fact]
    public async Task PatchWorkspace_MatchingIfMatch_UpdatedWithNewETag()
    {
        var workspace = (await SidecarClient.CreateWorkspaceAsync(_host, _user, ["git.example.test"])).WorkspaceId;
        var tag = (await _host.Admin.GetAsync($"/api/v1/workspaces/{workspace}")).Headers.ETag!.Tag;
        var patched = await SendAsync(HttpMethod.Patch, $"/api/v1/workspaces/{workspace}", tag, new { name = "renamed" });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.NotEqual(tag, patched.Headers.ETag!.Tag);
        var stale = await SendAsync(HttpMethod.Patch, $"/api/v1/workspaces/{workspace}", tag, new { name = "again" });
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
    }

    [Fact]
    public async Task Delete_MatchingOrStarIfMatch_Deleted_StaleOne_412AndKept()
    {
        var a = await _host.CreateGitCredentialAsync(_user, "https://a.example.test", "ann", "s3cret-a");
        var b = await _host.CreateGitCredentialAsync(_user, "https://b.example.test", "ann", "s3cret-b");
        var tagA = (await _host.Admin.GetAsync($"/api/v1/credentials/{a}")).Headers.ETag!.Tag;

        Assert.Equal(HttpStatusCode.PreconditionFailed, (await SendAsync(HttpMethod.Delete, $"/api/v1/credentials/{a}", "\"stale\"")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _host.Admin.GetAsync($"/api/v1/credentials/{a}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/api/v1/credentials/{a}", tagA)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/api/v1/credentials/{b}", "*")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, $"/api/v1/credentials/{b}", "*")).StatusCode);
    }

    [Fact]
    public async Task RevokeApiKey_AlreadyRevokedWithStaleIfMatch_412()
    {
        using var created = await _host.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "k", scopes = new[] { "users:read" } });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/api/v1/api-keys/{id}", "*")).StatusCode);
        // Revoking again writes nothing, and still answers the condition.
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await SendAsync(HttpMethod.Delete, $"/api/v1/api-keys/{id}", "\"stale\"")).StatusCode);
    }

    [Fact]
    public async Task Get_IfNoneMatchCurrent_304WithoutBody()
    {
        using var get = await _host.Admin.GetAsync($"/api/v1/users/{_user}");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/users/{_user}");
        request.Headers.IfNoneMatch.Add(get.Headers.ETag!);
        using var conditional = await _host.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, conditional.StatusCode);
        Assert.Equal(get.Headers.ETag, conditional.Headers.ETag);
        Assert.Empty(await conditional.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task RowVersion_UsageCountersAndKeyRewraps_LeaveTheETagAlone()
    {
        var id = await _host.CreateGitCredentialAsync(_user, "https://git.example.test", "ann", "s3cret-three");
        var tag = (await _host.Admin.GetAsync($"/api/v1/credentials/{id}")).Headers.ETag;
        await _host.Get<WriteQueue>().ExecuteAsync((c, t) => Sql.Execute(c, t,
            "UPDATE credentials SET total_uses = total_uses + 1, last_used_at = 5, wrapped_dek = wrapped_dek WHERE id = @id", ("@id", id)));
        Assert.Equal(tag, (await _host.Admin.GetAsync($"/api/v1/credentials/{id}")).Headers.ETag);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? ifMatch, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }
        return await _host.Admin.SendAsync(request);
    }

    private async Task<long> CountAsync(string sql) =>
        Convert.ToInt64(await _host.Get<Database>().ReadAsync(c => Sql.Scalar(c, null, sql)), System.Globalization.CultureInfo.InvariantCulture);
}
