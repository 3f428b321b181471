using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Api;

/// <summary>
/// Malformed and hostile input against every REST operation in /openapi/v1.json (so a new endpoint
/// is attacked as soon as it is documented) and against the sidecar gRPC surface: always a clean
/// 4xx problem+json or gRPC status, nothing changed, no secret in any answer.
/// </summary>
public sealed class HostileInputTests(HostileInputTests.Fixture world) : IClassFixture<HostileInputTests.Fixture>
{
    private const string MissingId = "hostile_missing_0000";

    // Escaped into one path segment, except "raw:" ones, sent as written (encoded dots and slashes reach the router as they are).
    public static TheoryData<string> IdAttacks() =>
    [
        "../../users", "raw:..%2f..%2fusers", "raw:%2e%2e%2f%2e%2e%2fapi-keys", "raw:%2E%2E/%2E%2E/audit", "..%2f..%2fusers", "%2e%2e%2f%2e%2e%2fusers",
        "..\\..\\users", "' OR 1=1 --", "\"; DROP TABLE users; --",
        "usr_x' UNION SELECT token_hash FROM api_keys --", "%00", "*", "%", "_", new string('a', 10_000), "\u202Eevil\uFFFF",
    ];

    // A NUL in the path never reaches the app (the server refuses the request line), so only queries carry one.
    public static TheoryData<string> QueryAttacks()
    {
        var attacks = IdAttacks();
        attacks.Add("\u0000nul");
        return attacks;
    }

    public static TheoryData<string> BodyAttacks() =>
    [
        "wrong-types", "array", "string", "null", "number", "truncated", "deep-nesting", "invalid-utf8", "huge-string", "over-limit",
        "not-json-content-type", "duplicate-keys", "unknown-fields", "hostile-strings", "known-fields-wrong-types", "known-fields-bad-values",
    ];

    public static TheoryData<string> AuthAttacks() =>
    [
        "none", "forged", "forged-short", "wrong-prefix", "basic-scheme", "empty-bearer", "huge", "expired", "revoked", "control-chars",
    ];

    public static TheoryData<string> GrpcAttacks() =>
    [
        "no-token", "forged-session", "bootstrap-as-session", "api-key-as-session", "huge-token", "expired-session", "open-forged-bootstrap",
        "open-replayed-bootstrap", "open-huge-bootstrap", "git-invalid-protocol", "git-hostile-host", "git-huge-fields", "ai-hostile-fields",
        "validate-hostile-ids", "foreign-lease-ids", "usage-negative",
    ];

    [Fact]
    public void OpenApiDocument_ListsTheOperationsUnderAttack()
    {
        Assert.Contains(world.Operations, o => o is { Method: "DELETE", Template: "/api/v1/credentials/{id}" });
        Assert.Contains(world.Operations, o => o is { Method: "POST", Template: "/api/v1/workspaces/{id}/bootstrap" });
        Assert.True(world.Operations.Count >= 15, string.Join(", ", world.Operations));
    }

    [Theory]
    [MemberData(nameof(IdAttacks))]
    public async Task EveryOperation_HostileId_ProblemAndNothingChanged(string id)
    {
        var before = await world.SnapshotAsync();
        foreach (var operation in world.Operations.Where(o => o.Template.Contains('{', StringComparison.Ordinal)))
        {
            using var request = new HttpRequestMessage(new HttpMethod(operation.Method), operation.Fill(_ => id.StartsWith("raw:", StringComparison.Ordinal) ? id[4..] : Uri.EscapeDataString(id)));
            if (operation.HasBody)
            {
                request.Content = JsonContent.Create(new { });
            }
            await AssertProblemAsync(world.Admin, request, operation, expected: null);
        }
        await world.AssertUnchangedAsync(before);
    }

    [Theory]
    [MemberData(nameof(QueryAttacks))]
    public async Task EveryQuery_HostileValue_NoErrorAndNoOtherRows(string value)
    {
        var before = await world.SnapshotAsync();
        foreach (var operation in world.Operations.Where(o => o.Method == "GET" && o.QueryParameters.Count > 0))
        {
            foreach (var parameter in operation.QueryParameters)
            {
                var uri = operation.Fill(_ => MissingId) + "?" + parameter + "=" + Uri.EscapeDataString(value);
                using var response = await world.Admin.GetAsync(uri);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True((int)response.StatusCode < 500, $"{uri}: {(int)response.StatusCode} {body}");
                if (response.IsSuccessStatusCode)
                {
                    // A filter on a value nobody has must not widen into everyone's rows.
                    Assert.DoesNotContain(world.VictimWorkspaceId, body, StringComparison.Ordinal);
                    Assert.DoesNotContain(world.VictimLeaseId, body, StringComparison.Ordinal);
                }
                else
                {
                    AssertProblem(response, body, uri, expected: null);
                }
                world.AssertNoSecret(response, body, uri);
            }
        }
        await world.AssertUnchangedAsync(before);
    }

    [Theory]
    [MemberData(nameof(BodyAttacks))]
    public async Task EveryWrite_HostileBody_ProblemAndNothingChanged(string attack)
    {
        var before = await world.SnapshotAsync();
        foreach (var operation in world.Operations.Where(o => o.HasBody))
        {
            using var request = new HttpRequestMessage(new HttpMethod(operation.Method), operation.Fill(_ => MissingId)) { Content = HostileBody(attack) };
            await AssertProblemAsync(world.Admin, request, operation, expected: null);
        }
        // An update always reads its body, so it can be aimed at a real record too.
        foreach (var operation in world.Operations.Where(o => o.Method == "PATCH"))
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, operation.Fill(world.VictimIdFor)) { Content = HostileBody(attack) };
            await AssertProblemAsync(world.Admin, request, operation, expected: null);
        }
        await world.AssertUnchangedAsync(before);
    }

    [Theory]
    [MemberData(nameof(AuthAttacks))]
    public async Task EveryOperation_BadApiKey_UnauthorizedAndNothingChanged(string attack)
    {
        var before = await world.SnapshotAsync();
        using var client = world.Host.CreateClient(null);
        foreach (var operation in world.Operations)
        {
            // Real ids, so only the key stands between the request and a change.
            using var request = new HttpRequestMessage(new HttpMethod(operation.Method), operation.Fill(world.VictimIdFor));
            world.SetAuthorization(request, attack);
            if (operation.HasBody)
            {
                request.Content = JsonContent.Create(new { name = "x", email = "x@example.test", userId = world.VictimUserId });
            }
            await AssertProblemAsync(client, request, operation, expected: HttpStatusCode.Unauthorized);
        }
        await world.AssertUnchangedAsync(before);
    }

    public static TheoryData<string> IdempotencyKeyAttacks() =>
    [
        "   ", "\"\"", new string('k', 256), "two words", "a,b", "\"unterminated", "\"bad\\escape\"", "\u00e9t\u00e9", "repeated",
    ];

    public static TheoryData<string> IfMatchAttacks() => ["\"stale\"", "garbage", "W/\"weak\"", "\"unterminated", "\"a\" \"b\"", new string('x', 10_000)];

    [Theory]
    [MemberData(nameof(IdempotencyKeyAttacks))]
    public async Task EveryCreatingPost_BadIdempotencyKey_400AndNothingChanged(string attack)
    {
        var before = await world.SnapshotAsync();
        foreach (var operation in world.Operations.Where(o => o.Method == "POST" && !o.Template.EndsWith("/test", StringComparison.Ordinal) && !o.Template.EndsWith("/ack", StringComparison.Ordinal)))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, operation.Fill(world.VictimIdFor))
            {
                Content = JsonContent.Create(new { name = "x", kind = "git", provider = "generic", url = "https://git.example.test", username = "m", secret = "s", userId = world.VictimUserId }),
            };
            if (attack == "repeated")
            {
                request.Headers.TryAddWithoutValidation("Idempotency-Key", ["one", "two"]);
            }
            else
            {
                request.Headers.TryAddWithoutValidation("Idempotency-Key", attack);
            }
            using var response = await world.Admin.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            AssertProblem(response, body, operation.Name, HttpStatusCode.BadRequest);
            Assert.Contains("invalid-idempotency-key", body, StringComparison.Ordinal);
        }
        await world.AssertUnchangedAsync(before);
    }

    [Theory]
    [MemberData(nameof(IfMatchAttacks))]
    public async Task EveryConditionalWrite_StaleOrMalformedIfMatch_412AndNothingChanged(string attack)
    {
        var before = await world.SnapshotAsync();
        foreach (var operation in world.Operations.Where(o => o.Method is "PATCH" or "DELETE"))
        {
            using var request = new HttpRequestMessage(new HttpMethod(operation.Method), operation.Fill(world.VictimIdFor))
            {
                Content = operation.Method == "PATCH" ? JsonContent.Create(new { name = "renamed" }) : null,
            };
            request.Headers.TryAddWithoutValidation("If-Match", attack);
            // The operation's own refusals come first (RFC 9110, 13.2.1): a provider still in use is a 409 either way.
            var inUse = operation.Template.StartsWith("/api/v1/oauth-providers", StringComparison.Ordinal);
            await AssertProblemAsync(world.Admin, request, operation, expected: inUse ? HttpStatusCode.Conflict : HttpStatusCode.PreconditionFailed);
        }
        await world.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task EveryOperation_OtherUsersIdsWithUserBoundKey_NotFoundAndNothingChanged()
    {
        var before = await world.SnapshotAsync();
        foreach (var operation in world.Operations.Where(o => o.Template.Contains('{', StringComparison.Ordinal)))
        {
            using var request = new HttpRequestMessage(new HttpMethod(operation.Method), operation.Fill(world.VictimIdFor));
            // Conditions cannot probe ids either: a foreign id is not found before any If-Match or Idempotency-Key is judged.
            request.Headers.TryAddWithoutValidation("If-Match", "\"stale\"");
            request.Headers.TryAddWithoutValidation("Idempotency-Key", "probe");
            if (operation.HasBody)
            {
                // A body the operation would accept, so only the foreign id can make it fail.
                request.Content = operation.Method == "PATCH"
                    ? JsonContent.Create(new { name = "renamed" })
                    : JsonContent.Create(new { kind = "git", provider = "generic", url = "https://git.example.test", username = "m", secret = "s" });
            }
            // GitHub Apps and OAuth providers belong to no user: every user-bound key is refused them.
            var ownerless = operation.Template.StartsWith("/api/v1/github-apps", StringComparison.Ordinal)
                || operation.Template.StartsWith("/api/v1/oauth-providers", StringComparison.Ordinal);
            await AssertProblemAsync(world.Mallory, request, operation, expected: ownerless ? HttpStatusCode.Forbidden : HttpStatusCode.NotFound);
        }

        // Another user's id in a body or a filter: refused, or answered without that user's rows.
        using var workspace = await world.Mallory.PostAsJsonAsync("/api/v1/workspaces", new { userId = world.VictimUserId, name = "ws" });
        AssertProblem(workspace, await workspace.Content.ReadAsStringAsync(), "POST /api/v1/workspaces", HttpStatusCode.NotFound);
        using var key = await world.Mallory.PostAsJsonAsync("/api/v1/api-keys", new { name = "k", scopes = new[] { "users:read" }, userId = world.VictimUserId });
        Assert.InRange((int)key.StatusCode, 400, 499);
        using var audit = await world.Mallory.GetAsync($"/api/v1/audit?userId={world.VictimUserId}");
        AssertProblem(audit, await audit.Content.ReadAsStringAsync(), "GET /api/v1/audit?userId=", HttpStatusCode.NotFound);
        foreach (var list in new[] { "/api/v1/users", $"/api/v1/workspaces?userId={world.VictimUserId}", "/api/v1/leases?includeEnded=true", "/api/v1/api-keys" })
        {
            var body = await world.Mallory.GetStringAsync(list);
            Assert.DoesNotContain(world.VictimUserId, body, StringComparison.Ordinal);
            Assert.DoesNotContain(world.VictimWorkspaceId, body, StringComparison.Ordinal);
        }
        await world.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task CreateUser_SqlMetacharactersInName_StoredVerbatimAndTablesIntact()
    {
        const string name = "Robert'); DROP TABLE users; --";
        using var created = await world.Admin.PostAsJsonAsync("/api/v1/users", new { name, email = "bobby@example.test" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        try
        {
            var fetched = await world.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{id}");
            Assert.Equal(name, fetched.GetProperty("name").GetString());
            Assert.True(await world.UsersTableExistsAsync());
            Assert.Contains(world.VictimUserId, await world.Admin.GetStringAsync("/api/v1/users"), StringComparison.Ordinal);
        }
        finally
        {
            (await world.Admin.DeleteAsync($"/api/v1/users/{id}")).Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(GrpcAttacks))]
    public async Task SidecarSurface_HostileCall_CleanStatusAndNothingIssued(string attack)
    {
        var before = await world.SnapshotAsync();
        var grpc = new SidecarBroker.SidecarBrokerClient(world.Host.GrpcChannel);
        var valid = world.Sidecar.Auth;
        var calls = GrpcCalls(attack, grpc, valid);
        foreach (var (name, call) in calls)
        {
            try
            {
                var reply = await call();
                // Only answers that carry nothing: no lease, no secret, no foreign id.
                var text = reply.ToString()!;
                Assert.True(reply is not GitCredentialReply { Lease: not null } and not AiCredentialReply { Lease: not null }, $"{attack}/{name} issued: {text}");
                Assert.DoesNotContain(world.VictimLeaseId, text, StringComparison.Ordinal);
                world.AssertNoSecret(text, $"{attack}/{name}");
            }
            catch (RpcException e)
            {
                Assert.True(e.StatusCode is not (StatusCode.Internal or StatusCode.Unknown), $"{attack}/{name}: {e.Status}");
                world.AssertNoSecret(e.Status.Detail, $"{attack}/{name}");
            }
        }
        await world.AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task SidecarSurface_ReplayedSessionToken_DeniedAndNothingIssued()
    {
        // Replaying a superseded token revokes its workspace by design, so this one gets its own.
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(world.Host, world.VictimUserId, ["git.example.test"])).OpenAsync();
        var superseded = sidecar.Auth;
        await sidecar.RefreshAsync();
        var before = await world.Host.Get<Database>().ReadAsync(c => Sql.Scalar(c, null, "SELECT COUNT(*) FROM leases"));

        var replay = await Assert.ThrowsAsync<RpcException>(() =>
            sidecar.Grpc.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "git.example.test" }, superseded).ResponseAsync);
        var after = await Assert.ThrowsAsync<RpcException>(() => sidecar.GetAsync("https", "git.example.test"));

        Assert.Equal((StatusCode.PermissionDenied, StatusCode.PermissionDenied), (replay.StatusCode, after.StatusCode));
        Assert.Equal(before, await world.Host.Get<Database>().ReadAsync(c => Sql.Scalar(c, null, "SELECT COUNT(*) FROM leases")));
        world.AssertNoSecret(replay.Status.Detail + after.Status.Detail, "replay");
    }

    private List<(string Name, Func<Task<object>> Call)> GrpcCalls(string attack, SidecarBroker.SidecarBrokerClient grpc, Metadata valid)
    {
        var huge = new string('h', 100_000);
        Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };
        List<(string, Func<Task<object>>)> AllCalls(Metadata auth) =>
        [
            ("refresh", async () => await grpc.RefreshSessionAsync(new RefreshSessionRequest(), auth)),
            ("git", async () => await grpc.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "git.example.test" }, auth)),
            ("rejection", async () => await grpc.ReportRejectionAsync(new ReportRejectionRequest { LeaseId = world.VictimLeaseId }, auth)),
            ("validate", async () => await grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { world.VictimLeaseId } }, auth)),
            ("targets", async () => await grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), auth)),
            ("ai-list", async () => await grpc.ListAiCredentialsAsync(new ListAiCredentialsRequest(), auth)),
            ("ai", async () => await grpc.GetAiCredentialAsync(new AiCredentialRequest { Provider = "openai", Mode = "proxy" }, auth)),
            ("usage", async () => await grpc.ReportAiUsageAsync(new ReportAiUsageRequest { LeaseId = world.VictimLeaseId, Requests = 1 }, auth)),
            ("draw", async () => await grpc.DrawAiRequestsAsync(new DrawAiRequestsRequest { LeaseId = world.VictimLeaseId, Requests = 1 }, auth)),
            ("watch", async () =>
            {
                using var stream = grpc.WatchRevocations(new WatchRevocationsRequest(), auth, deadline: DateTime.UtcNow.AddSeconds(5));
                return await stream.ResponseStream.MoveNext() ? stream.ResponseStream.Current : new RevocationEvent();
            }),
        ];
        GitCredentialRequest Git(string protocol, string host, string path = "", string username = "") =>
            new() { Protocol = protocol, Host = host, Path = path, Username = username };
        List<(string, Func<Task<object>>)> GitCalls(params GitCredentialRequest[] requests) =>
            [.. requests.Select((r, i) => ($"git#{i}", (Func<Task<object>>)(async () => await grpc.GetGitCredentialAsync(r, valid))))];

        return attack switch
        {
            "no-token" => AllCalls([]),
            "forged-session" => AllCalls(Bearer("xst_" + new string('A', 43))),
            "bootstrap-as-session" => AllCalls(Bearer(world.UsedBootstrapToken)),
            "api-key-as-session" => AllCalls(Bearer(world.Host.AdminKey)),
            "huge-token" => AllCalls(Bearer("xst_" + huge)),
            "expired-session" => AllCalls(world.ExpiredSession),
            "open-forged-bootstrap" => [("open", async () => await grpc.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = "xbt_" + new string('B', 43) }))],
            "open-replayed-bootstrap" => [("open", async () => await grpc.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = world.UsedBootstrapToken }))],
            "open-huge-bootstrap" => [("open", async () => await grpc.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = huge, SidecarVersion = huge }))],
            "git-invalid-protocol" => GitCalls(Git("gopher", "git.example.test"), Git("", "git.example.test"), Git("HTTPS\r\n", "git.example.test"), Git("file", "/etc/passwd")),
            "git-hostile-host" => GitCalls(Git("https", "' OR 1=1 --"), Git("https", "git.example.test\0.evil"), Git("https", "git.example.test\r\nhost=evil"),
                Git("https", "169.254.169.254"), Git("https", "git.example.test:99999"), Git("https", "git.example.test", "../../etc/passwd", "'; DROP TABLE users; --")),
            "git-huge-fields" => GitCalls(Git("https", huge), Git("https", "git.example.test", huge, huge), Git(huge, "git.example.test")),
            "ai-hostile-fields" =>
            [
                ("ai-provider", async () => await grpc.GetAiCredentialAsync(new AiCredentialRequest { Provider = "' OR 1=1 --", Mode = "proxy" }, valid)),
                ("ai-mode", async () => await grpc.GetAiCredentialAsync(new AiCredentialRequest { Provider = "openai", Mode = "../../x" }, valid)),
                ("ai-foreign", async () => await grpc.GetAiCredentialAsync(new AiCredentialRequest { Provider = "openai", CredentialId = world.VictimCredentialId, Mode = "inject" }, valid)),
                ("ai-huge", async () => await grpc.GetAiCredentialAsync(new AiCredentialRequest { Provider = huge, CredentialId = huge, Mode = huge }, valid)),
            ],
            "validate-hostile-ids" =>
            [
                ("validate-sql", async () => await grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { "' OR 1=1 --", "%", "*", "" } }, valid)),
                ("validate-many", async () => await grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { Enumerable.Range(0, 5_000).Select(i => $"lse_{i}") } }, valid)),
            ],
            "foreign-lease-ids" =>
            [
                ("rejection", async () => await grpc.ReportRejectionAsync(new ReportRejectionRequest { LeaseId = world.VictimLeaseId }, world.MallorySidecar.Auth)),
                ("validate", async () => await grpc.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { world.VictimLeaseId } }, world.MallorySidecar.Auth)),
                ("usage", async () => await grpc.ReportAiUsageAsync(new ReportAiUsageRequest { LeaseId = world.VictimLeaseId, Requests = 1 }, world.MallorySidecar.Auth)),
                ("draw", async () => await grpc.DrawAiRequestsAsync(new DrawAiRequestsRequest { LeaseId = world.VictimLeaseId, Requests = 1 }, world.MallorySidecar.Auth)),
            ],
            "usage-negative" =>
            [
                ("usage-negative", async () => await grpc.ReportAiUsageAsync(new ReportAiUsageRequest { LeaseId = "lse_x", Requests = -5, InputTokens = long.MinValue, OutputTokens = long.MaxValue }, valid)),
                ("return-negative", async () => await grpc.ReportAiUsageAsync(new ReportAiUsageRequest { LeaseId = "lse_x", ReturnedRequests = long.MinValue }, valid)),
                ("draw-negative", async () => await grpc.DrawAiRequestsAsync(new DrawAiRequestsRequest { LeaseId = "lse_x", Requests = long.MinValue }, valid)),
                ("draw-huge", async () => await grpc.DrawAiRequestsAsync(new DrawAiRequestsRequest { LeaseId = "lse_x", Requests = long.MaxValue }, valid)),
                ("watch-negative", async () =>
                {
                    using var stream = grpc.WatchRevocations(new WatchRevocationsRequest { AfterSequence = long.MinValue }, valid, deadline: DateTime.UtcNow.AddMilliseconds(300));
                    try
                    {
                        return await stream.ResponseStream.MoveNext() ? stream.ResponseStream.Current : new RevocationEvent();
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
                    {
                        return new RevocationEvent();
                    }
                }),
            ],
            _ => throw new ArgumentOutOfRangeException(nameof(attack)),
        };
    }

    private static HttpContent HostileBody(string attack)
    {
        static HttpContent Json(string text) => new StringContent(text, Encoding.UTF8, "application/json");
        return attack switch
        {
            "wrong-types" => Json("""{"name":12,"email":["x"],"userId":{"a":1},"scopes":"admin","expiresAt":true,"kind":7,"url":[],"secret":{},"allowedHosts":"*"}"""),
            "array" => Json("[]"),
            "string" => Json("\"hello\""),
            "null" => Json("null"),
            "number" => Json("1e999"),
            "truncated" => Json("{\"name\":\"x"),
            "deep-nesting" => Json(new string('[', 10_000) + new string(']', 10_000)),
            "invalid-utf8" => new ByteArrayContent([.. "{\"name\":\""u8, 0xC3, 0x28, 0xFF, 0xFE, 0xED, 0xA0, 0x80, .. "\"}"u8])
            {
                Headers = { ContentType = new MediaTypeHeaderValue("application/json") },
            },
            "huge-string" => Json($$"""{"name":"{{new string('n', 60_000)}}","email":"a@b.test","userId":"{{MissingId}}","kind":"git"}"""),
            "over-limit" => Json($$"""{"name":"{{new string('n', 2_000_000)}}"}"""),
            "not-json-content-type" => new StringContent("name=x&email=y", Encoding.UTF8, "application/x-www-form-urlencoded"),
            "duplicate-keys" => Json("""{"name":"a","name":"b","userId":"x","userId":"y"}"""),
            "unknown-fields" => Json("""{"isAdmin":true,"__proto__":{"admin":true},"scopes":["admin"],"id":"usr_forced"}"""),
            "hostile-strings" => Json("""{"name":"\u0000\r\n","email":"' OR 1=1 --","userId":"../../users","url":"file:///etc/passwd","kind":"'; DROP TABLE users; --","allowedHosts":["*"],"expiresAt":"1970-01-01T00:00:00Z"}"""),
            // Only fields an update knows, so the request gets past "unknown member" to the values themselves.
            "known-fields-wrong-types" => Json("""{"name":12,"secret":{},"expiresAt":true}"""),
            "known-fields-bad-values" => Json("""{"name":"ok\u0000\r\nhost=evil","url":"file:///etc/passwd","expiresAt":"1970-01-01T00:00:00Z","secret":""}"""),
            _ => throw new ArgumentOutOfRangeException(nameof(attack)),
        };
    }

    private async Task AssertProblemAsync(HttpClient client, HttpRequestMessage request, DocumentedOperation operation, HttpStatusCode? expected)
    {
        var what = $"{operation.Method} {request.RequestUri}";
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        AssertProblem(response, body, what, expected);
        world.AssertNoSecret(response, body, what);
    }

    private static void AssertProblem(HttpResponseMessage response, string body, string what, HttpStatusCode? expected)
    {
        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{what}: {status} {body[..Math.Min(body.Length, 300)]}");
        if (expected is { } code)
        {
            Assert.True(code == response.StatusCode, $"{what}: expected {(int)code}, got {status} {body[..Math.Min(body.Length, 300)]}");
        }
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{what}: {status} {response.Content.Headers.ContentType} '{body}'");
    }

    /// <summary>
    /// One broker for the whole suite: a victim user with a credential, a workspace, a live lease
    /// and a key; a second user ("mallory") with an all-scopes key bound to them; an expired and a revoked key.
    /// </summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public const string VictimSecret = "ghp_hostileVictimSecret0123456789abcdef";

        private readonly List<string> _secrets = [VictimSecret];

        internal BrokerTestHost Host { get; private set; } = null!;

        internal HttpClient Admin => Host.Admin;

        internal HttpClient Mallory { get; private set; } = null!;

        internal IReadOnlyList<DocumentedOperation> Operations { get; private set; } = [];

        internal SidecarClient Sidecar { get; private set; } = null!;

        internal SidecarClient MallorySidecar { get; private set; } = null!;

        internal Metadata ExpiredSession { get; private set; } = null!;

        internal string UsedBootstrapToken => Sidecar.BootstrapToken;

        internal string VictimUserId { get; private set; } = null!;

        internal string VictimCredentialId { get; private set; } = null!;

        internal string VictimWorkspaceId { get; private set; } = null!;

        internal string VictimLeaseId { get; private set; } = null!;

        internal string VictimKeyId { get; private set; } = null!;

        internal string VictimFlagId { get; private set; } = null!;

        internal string VictimGitHubAppId { get; private set; } = null!;

        internal string VictimConnectionId { get; private set; } = null!;

        internal string VictimOAuthProviderId { get; private set; } = null!;

        private string ExpiredKey { get; set; } = null!;

        private string RevokedKey { get; set; } = null!;

        public async Task InitializeAsync()
        {
            // Hundreds of deliberate auth failures from one client: these tests want each one's 401, not the throttle's 429.
            Host = await BrokerTestHost.StartAsync(o => o with { AuthFailureLimit = int.MaxValue, AuthFailureAddressLimit = int.MaxValue });
            _secrets.Add(Host.AdminKey);
            VictimUserId = await Host.CreateUserAsync("victim");
            VictimCredentialId = await Host.CreateGitCredentialAsync(VictimUserId, "https://git.example.test", "victim", VictimSecret);
            Sidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, VictimUserId, ["git.example.test"])).OpenAsync();
            VictimWorkspaceId = Sidecar.WorkspaceId;
            _secrets.AddRange([Sidecar.BootstrapToken, Sidecar.Grant!.SessionToken]);
            VictimLeaseId = (await Sidecar.GetAsync("https", "git.example.test")).Lease.LeaseId;

            var expiring = await (await SidecarClient.CreateWorkspaceAsync(Host, VictimUserId, ["git.example.test"])).OpenAsync();
            ExpiredSession = expiring.Auth;
            _secrets.AddRange([expiring.BootstrapToken, expiring.Grant!.SessionToken]);
            await Host.Get<WriteQueue>().ExecuteAsync((c, t) =>
                Sql.Execute(c, t, "UPDATE session_tokens SET expires_at = 0 WHERE session_id = @id", ("@id", expiring.Grant.SessionId)));

            (VictimKeyId, var victimKey) = await CreateKeyAsync(["credentials:read"], VictimUserId);
            VictimFlagId = await Audit.AuditFlagsForTests.RaiseAsync(Host, VictimUserId, VictimWorkspaceId);
            using (var appKey = System.Security.Cryptography.RSA.Create(2048))
            using (var app = await Admin.PostAsJsonAsync("/api/v1/github-apps", new { name = "victim app", appId = 7, privateKey = appKey.ExportRSAPrivateKeyPem() }))
            {
                app.EnsureSuccessStatusCode();
                VictimGitHubAppId = (await app.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!;
            }
            VictimConnectionId = await Connections.ConnectionsForTests.SeedPendingAsync(Host, VictimUserId);
            VictimOAuthProviderId = (await Admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/connections/{VictimConnectionId}"))
                .GetProperty("providerId").GetString()!;
            var mallory = await Host.CreateUserAsync("mallory");
            var (_, malloryKey) = await CreateKeyAsync(["admin", "users:read", "users:write", "credentials:read", "credentials:write", "workspaces:read", "workspaces:write", "audit:read"], mallory);
            Mallory = Host.CreateClient(malloryKey);
            MallorySidecar = await (await SidecarClient.CreateWorkspaceAsync(Host, mallory, ["git.example.test"])).OpenAsync();
            _secrets.AddRange([MallorySidecar.BootstrapToken, MallorySidecar.Grant!.SessionToken]);
            var (expiredId, expiredKey) = await CreateKeyAsync(["admin"], null);
            await Host.Get<WriteQueue>().ExecuteAsync((c, t) => Sql.Execute(c, t, "UPDATE api_keys SET expires_at = 1 WHERE id = @id", ("@id", expiredId)));
            var (revokedId, revokedKey) = await CreateKeyAsync(["admin"], null);
            (await Admin.DeleteAsync($"/api/v1/api-keys/{revokedId}")).EnsureSuccessStatusCode();
            (ExpiredKey, RevokedKey) = (expiredKey, revokedKey);
            _secrets.AddRange([victimKey, malloryKey, expiredKey, revokedKey]);

            Operations = await DocumentedOperation.ReadAsync(Host);
        }

        public async Task DisposeAsync()
        {
            Mallory.Dispose();
            await Host.DisposeAsync();
        }

        /// <summary>The victim's real id for the resource a path template names (by the segment before the parameter).</summary>
        internal string VictimIdFor(string templatePrefix) => templatePrefix.TrimEnd('/').Split('/')[^1] switch
        {
            "users" => VictimUserId,
            "credentials" => VictimCredentialId,
            "workspaces" => VictimWorkspaceId,
            "leases" => VictimLeaseId,
            "api-keys" => VictimKeyId,
            "flags" => VictimFlagId,
            "github-apps" => VictimGitHubAppId,
            "oauth-providers" => VictimOAuthProviderId,
            "connections" => VictimConnectionId,
            var other => throw new InvalidOperationException($"No victim id is known for '{other}/{{…}}'; teach HostileInputTests.Fixture.VictimIdFor."),
        };

        internal void SetAuthorization(HttpRequestMessage request, string attack)
        {
            string? header = attack switch
            {
                "none" => null,
                "forged" => "Bearer xar_" + new string('A', 43),
                "forged-short" => "Bearer xar_x",
                "wrong-prefix" => "Bearer xst_" + Host.AdminKey[4..],
                "basic-scheme" => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + Host.AdminKey)),
                "empty-bearer" => "Bearer ",
                "huge" => "Bearer xar_" + new string('A', 60_000),
                "expired" => "Bearer " + ExpiredKey,
                "revoked" => "Bearer " + RevokedKey,
                "control-chars" => "Bearer xar_' OR 1=1 --\t",
                _ => throw new ArgumentOutOfRangeException(nameof(attack)),
            };
            if (header is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", header);
            }
        }

        internal async Task<string> SnapshotAsync() =>
            await Admin.GetStringAsync("/api/v1/users") + "\n" + await DatabaseSnapshot.TakeAsync(Host);

        internal async Task AssertUnchangedAsync(string before)
        {
            Assert.True(await UsersTableExistsAsync(), "the users table is gone");
            Assert.Equal(before, await SnapshotAsync());
            var verification = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
            Assert.True(verification.GetProperty("ok").GetBoolean(), verification.ToString());
        }

        internal Task<bool> UsersTableExistsAsync() =>
            Host.Get<Database>().ReadAsync(c => Sql.Scalar(c, null, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'") is not null);

        internal void AssertNoSecret(HttpResponseMessage response, string body, string what)
        {
            AssertNoSecret(body, what);
            AssertNoSecret(string.Join("\n", response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(",", h.Value)}")), what);
        }

        internal void AssertNoSecret(string text, string what)
        {
            foreach (var secret in _secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{what}: a test secret leaked into the answer");
            }
        }

        private async Task<(string Id, string Key)> CreateKeyAsync(string[] scopes, string? userId)
        {
            using var response = await Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "hostile", scopes, userId });
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (body.GetProperty("id").GetString()!, body.GetProperty("key").GetString()!);
        }
    }
}
