using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xares.Broker.ApiKeys;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Api;

/// <summary>
/// Every REST operation of /openapi/v1.json × {no key, key without the operation's documented
/// scope, another user's key, the owner's key}: 401, 403, 404 (ids can't be probed) and success.
/// Each operation gets a fresh owner with its own credential, workspace, lease and key, so
/// destructive operations can succeed last; the refused calls must change nothing.
/// A new endpoint is checked as soon as it is documented (and fails here until it is taught an id or a body).
/// </summary>
public sealed class AccessMatrixTests
{
    // The operations a user-bound key may not use at all: users are created by unbound keys, and
    // verifying the audit chain covers every user's records.
    // GitHub Apps serve every user's workspaces.
    private static readonly HashSet<string> UnboundOnly = new(StringComparer.Ordinal)
    {
        "POST /api/v1/users", "GET /api/v1/audit/verify", "POST /api/v1/github-apps", "GET /api/v1/github-apps", "GET /api/v1/github-apps/{id}",
        "GET /api/v1/github-apps/{id}/installations", "DELETE /api/v1/github-apps/{id}",
        "POST /api/v1/oauth-providers", "GET /api/v1/oauth-providers", "GET /api/v1/oauth-providers/{id}", "DELETE /api/v1/oauth-providers/{id}",
    };

    // What the owner gets where it is not success: starting a device flow calls the provider, and no
    // provider is registered in process (the end-to-end tests connect for real).
    private static readonly Dictionary<string, HttpStatusCode> OwnerGets = new(StringComparer.Ordinal)
    {
        ["POST /api/v1/users/{userId}/connections"] = HttpStatusCode.NotFound,
        // A user's OIDC subject decides who signs in to the web UI as them: only an unbound key edits users.
        ["PATCH /api/v1/users/{id}"] = HttpStatusCode.Forbidden,
    };

    [Fact]
    public async Task EveryOperation_AnswersEachKindOfCallerAsItShould()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var operations = await DocumentedOperation.ReadAsync(host);
        var other = await Owner.CreateAsync(host, "other");
        var failures = new List<string>();

        foreach (var operation in operations)
        {
            var owner = await Owner.CreateAsync(host, "owner");
            using var anonymous = host.CreateClient(null);
            using var underScoped = host.CreateClient(await owner.CreateKeyAsync(
                [.. ApiKeyScopes.All.Where(s => s != operation.Scope && s != ApiKeyScopes.Admin)]));
            var before = await DatabaseSnapshot.TakeAsync(host);

            await ExpectAsync(anonymous, "no key", HttpStatusCode.Unauthorized);
            await ExpectAsync(underScoped, "under-scoped key", HttpStatusCode.Forbidden);
            if (operation.Template.Contains('{', StringComparison.Ordinal) || operation.Method != "GET" || UnboundOnly.Contains(operation.Name))
            {
                await ExpectAsync(other.Client, "other user's key", UnboundOnly.Contains(operation.Name) ? HttpStatusCode.Forbidden : HttpStatusCode.NotFound);
            }
            else
            {
                // A listing answers another user, but without the owner's rows.
                using var response = await other.Client.SendAsync(Request(operation, owner));
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode || owner.Ids.Any(id => body.Contains(id, StringComparison.Ordinal)))
                {
                    failures.Add($"{operation.Name} as other user's key: {(int)response.StatusCode}, owner ids {(response.IsSuccessStatusCode ? "listed" : "n/a")}");
                }
            }
            if (await DatabaseSnapshot.TakeAsync(host) != before)
            {
                failures.Add($"{operation.Name}: a refused call changed the database");
            }

            using (var response = await owner.Client.SendAsync(Request(operation, owner)))
            {
                var expectSuccess = !UnboundOnly.Contains(operation.Name) && !OwnerGets.ContainsKey(operation.Name);
                if (OwnerGets.TryGetValue(operation.Name, out var expected) ? response.StatusCode != expected
                    : response.IsSuccessStatusCode != expectSuccess || (!expectSuccess && response.StatusCode != HttpStatusCode.Forbidden))
                {
                    failures.Add($"{operation.Name} as owner: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }

            async Task ExpectAsync(HttpClient client, string caller, HttpStatusCode expected)
            {
                using var response = await client.SendAsync(Request(operation, owner));
                var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json";
                if (response.StatusCode != expected || !problem)
                {
                    failures.Add($"{operation.Name} as {caller}: expected {(int)expected} problem+json, got {(int)response.StatusCode} {response.Content.Headers.ContentType}");
                }
            }
        }

        Assert.True(operations.Count >= 20, $"only {operations.Count} operations documented");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task Document_NamesTheScopeOfEveryOperation()
    {
        await using var host = await BrokerTestHost.StartAsync();

        var operations = await DocumentedOperation.ReadAsync(host);

        Assert.All(operations, o => Assert.Contains(o.Scope, ApiKeyScopes.All));
        Assert.Contains(operations, o => o is { Name: "DELETE /api/v1/credentials/{id}", Scope: ApiKeyScopes.CredentialsWrite });
        Assert.Contains(operations, o => o is { Name: "GET /api/v1/api-keys", Scope: ApiKeyScopes.Admin });
    }

    private static HttpRequestMessage Request(DocumentedOperation operation, Owner owner)
    {
        var request = new HttpRequestMessage(new HttpMethod(operation.Method), operation.Fill(owner.IdFor));
        if (operation.HasBody)
        {
            request.Content = JsonContent.Create(Body(operation, owner));
        }
        return request;
    }

    // A body the operation accepts from its owner, so only the caller decides the answer.
    private static object Body(DocumentedOperation operation, Owner owner) => operation.Name switch
    {
        "POST /api/v1/users" => new { name = "new-user" },
        "PATCH /api/v1/users/{id}" => new { name = "renamed" },
        "POST /api/v1/users/{userId}/credentials" => new { kind = "git", provider = "generic", url = "https://git.matrix.test/other", username = "u", secret = "matrix-secret-2" },
        "PATCH /api/v1/credentials/{id}" => new { name = "renamed" },
        "POST /api/v1/credentials/{id}/test" => new { },
        "POST /api/v1/workspaces" => new { userId = owner.UserId, name = "ws2" },
        "PATCH /api/v1/workspaces/{id}" => new { name = "renamed" },
        "POST /api/v1/workspaces/{id}/bootstrap" => new { },
        "POST /api/v1/api-keys" => new { name = "k", scopes = new[] { ApiKeyScopes.CredentialsRead }, userId = owner.UserId },
        "POST /api/v1/api-keys/{id}/rotate" => new { graceSeconds = 60 },
        "POST /api/v1/audit/flags/{id}/ack" => new { },
        "POST /api/v1/github-apps" => new { name = "app", appId = 1 },
        "POST /api/v1/oauth-providers" => new { name = "idp", kind = "gitlab", baseUrl = "https://idp.matrix.test", clientId = "c", clientSecret = "s" },
        "POST /api/v1/users/{userId}/connections" => new { providerId = "no-such-provider" },
        _ => throw new InvalidOperationException($"No request body is known for {operation.Name}; teach AccessMatrixTests.Body."),
    };

    /// <summary>A user with one of everything, and a key bound to them holding every scope.</summary>
    private sealed class Owner
    {
        private readonly BrokerTestHost _host;

        private Owner(BrokerTestHost host) => _host = host;

        public string UserId { get; private set; } = null!;

        public HttpClient Client { get; private set; } = null!;

        public IReadOnlyList<string> Ids { get; private set; } = [];

        private string CredentialId { get; set; } = null!;

        private string WorkspaceId { get; set; } = null!;

        private string LeaseId { get; set; } = null!;

        private string KeyId { get; set; } = null!;

        private string FlagId { get; set; } = null!;

        private string ConnectionId { get; set; } = null!;

        public static async Task<Owner> CreateAsync(BrokerTestHost host, string name)
        {
            var owner = new Owner(host);
            owner.UserId = await host.CreateUserAsync(name);
            owner.CredentialId = await host.CreateGitCredentialAsync(owner.UserId, "https://git.matrix.test", name, "matrix-secret-1");
            var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, owner.UserId)).OpenAsync();
            owner.WorkspaceId = sidecar.WorkspaceId;
            owner.LeaseId = (await sidecar.GetAsync("https", "git.matrix.test")).Lease.LeaseId;
            owner.FlagId = await Audit.AuditFlagsForTests.RaiseAsync(host, owner.UserId, owner.WorkspaceId);
            owner.ConnectionId = await Connections.ConnectionsForTests.SeedPendingAsync(host, owner.UserId);
            (owner.KeyId, var key) = await owner.CreateKeyWithIdAsync([.. ApiKeyScopes.All]);
            owner.Client = host.CreateClient(key);
            owner.Ids = [owner.UserId, owner.CredentialId, owner.WorkspaceId, owner.LeaseId, owner.KeyId, owner.FlagId, owner.ConnectionId];
            return owner;
        }

        public async Task<string> CreateKeyAsync(string[] scopes) => (await CreateKeyWithIdAsync(scopes)).Key;

        public string IdFor(string templatePrefix) => templatePrefix.TrimEnd('/').Split('/')[^1] switch
        {
            "users" => UserId,
            "credentials" => CredentialId,
            "workspaces" => WorkspaceId,
            "leases" => LeaseId,
            "api-keys" => KeyId,
            "flags" => FlagId,
            // Refused to every user-bound key before the id is looked at.
            "github-apps" => "ghapp_unknown",
            "oauth-providers" => "oauthp_unknown",
            "connections" => ConnectionId,
            var other => throw new InvalidOperationException($"No owner id is known for '{other}/{{…}}'; teach AccessMatrixTests.Owner.IdFor."),
        };

        private async Task<(string Id, string Key)> CreateKeyWithIdAsync(string[] scopes)
        {
            using var response = await _host.Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "matrix", scopes, userId = UserId });
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (body.GetProperty("id").GetString()!, body.GetProperty("key").GetString()!);
        }
    }
}
