using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Xares.DevKit;

/// <summary>The platform backend's side of the broker: the REST contract (README, REST quick reference).</summary>
internal sealed class AdminClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient http;

    public AdminClient(string restUrl, string apiKey)
    {
        http = new HttpClient { BaseAddress = new Uri(restUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public async Task<string> CreateUserAsync(string name) =>
        IdOf(await SendAsync(HttpMethod.Post, "api/v1/users", new { name }));

    /// <summary>Stores a git credential; returns the created resource (id, secretHint, …).</summary>
    public Task<JsonElement> CreateGitCredentialAsync(string userId, string url, string username, string secret, string provider = "generic") =>
        SendAsync(HttpMethod.Post, $"api/v1/users/{userId}/credentials", new { kind = "git", provider, url, username, secret });

    public async Task<WorkspaceGrant> CreateWorkspaceAsync(string userId, string name, IReadOnlyList<string>? allowedHosts = null)
    {
        var created = await SendAsync(HttpMethod.Post, "api/v1/workspaces", new { userId, name, allowedHosts });
        return new WorkspaceGrant(IdOf(created), created.GetProperty("bootstrapToken").GetString()!);
    }

    public Task DeleteCredentialAsync(string id) => SendAsync(HttpMethod.Delete, $"api/v1/credentials/{id}");

    public Task DeleteWorkspaceAsync(string id) => SendAsync(HttpMethod.Delete, $"api/v1/workspaces/{id}");

    public Task DeleteLeaseAsync(string id) => SendAsync(HttpMethod.Delete, $"api/v1/leases/{id}");

    /// <summary>A workspace's live leases (with ended ones too if asked), newest first, following nextCursor.</summary>
    public Task<IReadOnlyList<JsonElement>> ListLeasesAsync(string workspaceId, bool includeEnded = false) =>
        ListAllAsync($"api/v1/leases?workspaceId={Uri.EscapeDataString(workspaceId)}&includeEnded={(includeEnded ? "true" : "false")}");

    /// <summary>Every workspace, following nextCursor.</summary>
    public Task<IReadOnlyList<JsonElement>> ListWorkspacesAsync() => ListAllAsync("api/v1/workspaces?");

    /// <summary>Every item of a paged listing (<paramref name="query"/> ends in ? or a parameter), following nextCursor.</summary>
    private async Task<IReadOnlyList<JsonElement>> ListAllAsync(string query)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await SendAsync(HttpMethod.Get, query + (query.EndsWith('?') ? "" : "&") + "limit=1000" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            items.AddRange(ItemsOf(page));
            cursor = page.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);
        return items;
    }

    public async Task<IReadOnlyList<JsonElement>> QueryAuditAsync(string? userId = null, string? workspaceId = null, string? credentialId = null, string? action = null)
    {
        var filters = new[] { ("userId", userId), ("workspaceId", workspaceId), ("credentialId", credentialId), ("action", action) }
            .Where(f => f.Item2 is not null)
            .Select(f => $"{f.Item1}={Uri.EscapeDataString(f.Item2!)}");
        return ItemsOf(await SendAsync(HttpMethod.Get, "api/v1/audit?" + string.Join('&', [.. filters, "limit=1000"])));
    }

    public Task<JsonElement> VerifyAuditAsync() => SendAsync(HttpMethod.Get, "api/v1/audit/verify");

    /// <summary>The raw body of a GET, for checking that responses never carry a secret.</summary>
    public async Task<string> GetRawAsync(string path)
    {
        using var response = await http.GetAsync(path.TrimStart('/'));
        var body = await response.Content.ReadAsStringAsync();
        EnsureSuccess(response, HttpMethod.Get, path, body);
        return body;
    }

    /// <summary>An id as the broker spells it (string or number).</summary>
    public static string IdOf(JsonElement resource) =>
        resource.GetProperty("id") is { ValueKind: JsonValueKind.String } id ? id.GetString()! : resource.GetProperty("id").GetRawText();

    /// <summary>A list response: a bare array, or the first array property of a paging envelope.</summary>
    public static IReadOnlyList<JsonElement> ItemsOf(JsonElement body)
    {
        if (body.ValueKind == JsonValueKind.Array)
        {
            return [.. body.EnumerateArray()];
        }

        var array = body.ValueKind == JsonValueKind.Object
            ? body.EnumerateObject().Select(p => p.Value).FirstOrDefault(v => v.ValueKind == JsonValueKind.Array)
            : default;
        return array.ValueKind == JsonValueKind.Array
            ? [.. array.EnumerateArray()]
            : throw new InvalidOperationException($"Expected a JSON list, got: {body.GetRawText()}");
    }

    /// <summary>Any REST call; the body of a success (default for an empty one), or an <see cref="HttpRequestException"/>.</summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body = null) =>
        (await ExchangeAsync(method, path, body)).Body;

    /// <summary>Any REST call, keeping the status code of a success (for narrating it).</summary>
    public async Task<RestReply> ExchangeAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        EnsureSuccess(response, method, path, text);
        return new RestReply(response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static void EnsureSuccess(HttpResponseMessage response, HttpMethod method, string path, string body)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{method} /{path} -> {(int)response.StatusCode}: {body}", null, response.StatusCode);
        }
    }

    public void Dispose() => http.Dispose();
}

/// <summary>A successful REST answer: its status and JSON body (default when the body is empty).</summary>
internal sealed record RestReply(System.Net.HttpStatusCode Status, JsonElement Body);

/// <summary>A registered workspace and the single-use token its sidecar redeems.</summary>
internal sealed record WorkspaceGrant(string Id, string BootstrapToken)
{
    public override string ToString() => $"WorkspaceGrant {{ Id = {Id} }}";
}
