using System.Text.Json;
using System.Text.RegularExpressions;
using Xares.Broker.Tests.Support;
using Xares.DevKit;

namespace Xares.Broker.Tests.Api;

/// <summary>
/// What generated clients rely on in /openapi/v1.json: stable unique operationIds, one tag per
/// resource, every 4xx as problem+json, named schemas, the precondition and idempotency answers,
/// no secret in it; and docs/openapi.json (the document clients are generated from) is the served one.
/// </summary>
public sealed partial class OpenApiContractTests : IAsyncLifetime
{
    private static readonly string CommittedPath = Path.Combine(Artifacts.RepositoryRoot, "docs", "openapi.json");
    private static readonly HashSet<string> ResourceTags =
        ["Users", "Credentials", "Workspaces", "Leases", "API keys", "Audit", "GitHub Apps", "OAuth providers", "OAuth connections", "Service"];

    private string served = "";
    private JsonElement root;

    public async Task InitializeAsync()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var anonymous = host.CreateClient(null);
        served = await anonymous.GetStringAsync("/openapi/v1.json");
        root = JsonDocument.Parse(served).RootElement;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public void CommittedDocument_IsTheServedOne()
    {
        // XARES_UPDATE_OPENAPI=1 rewrites docs/openapi.json after a deliberate change to the API.
        if (Environment.GetEnvironmentVariable("XARES_UPDATE_OPENAPI") == "1")
        {
            File.WriteAllText(CommittedPath, served + "\n");
        }
        Assert.True(File.ReadAllText(CommittedPath).TrimEnd('\n') == served,
            "docs/openapi.json differs from GET /openapi/v1.json; rerun this test with XARES_UPDATE_OPENAPI=1 and commit the file.");
    }

    [Fact]
    public void EveryOperation_HasAUniqueCamelCaseIdAndOneResourceTag()
    {
        var operations = Operations().ToList();
        var ids = operations.Select(o => o.Operation.GetProperty("operationId").GetString()!).ToList();

        Assert.True(operations.Count >= 40, $"only {operations.Count} operations");
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids, id => Assert.Matches(CamelCase(), id));
        Assert.All(operations, o => Assert.Contains(Assert.Single(o.Operation.GetProperty("tags").EnumerateArray()).GetString()!, ResourceTags));
        Assert.Equal(["API keys", "Audit", "Credentials", "GitHub Apps", "Leases", "OAuth connections", "OAuth providers", "Service", "Users", "Workspaces"],
            root.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
    }

    [Fact]
    public void Every4xx_IsProblemJsonWithTheBrokersProblemSchema()
    {
        var problems = Operations().SelectMany(o => o.Operation.GetProperty("responses").EnumerateObject()
            .Where(r => r.Name.StartsWith('4')).Select(r => (o.Path, o.Method, Status: r.Name, Response: r.Value))).ToList();

        Assert.Contains(problems, p => p.Status == "401");
        Assert.All(problems, p =>
        {
            var content = Assert.Single(p.Response.GetProperty("content").EnumerateObject());
            Assert.Equal("application/problem+json", content.Name);
            var schema = content.Value.GetProperty("schema").GetProperty("$ref").GetString();
            Assert.Equal(p.Status == "400" ? "#/components/schemas/HttpValidationProblemDetails" : "#/components/schemas/ProblemDetails", schema);
        });
        var problem = root.GetProperty("components").GetProperty("schemas").GetProperty("ProblemDetails").GetProperty("properties");
        Assert.All(["type", "title", "status", "detail", "requestId"], member => Assert.True(problem.TryGetProperty(member, out _), member));
    }

    [Fact]
    public void Writes_DeclareTheirPreconditionAndIdempotencyAnswers()
    {
        foreach (var (path, method, operation) in Operations())
        {
            var statuses = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet();
            var headers = operation.TryGetProperty("parameters", out var parameters)
                ? parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "header").Select(p => p.GetProperty("name").GetString()).ToHashSet()
                : [];
            var single = path.EndsWith('}');
            if (single && method is "patch" or "delete")
            {
                Assert.True(statuses.Contains("412") && headers.Contains("If-Match"), $"{method} {path}: 412 and If-Match");
            }
            if (single && method == "get")
            {
                Assert.True(operation.GetProperty("responses").GetProperty("200").GetProperty("headers").TryGetProperty("ETag", out _), $"GET {path}: ETag");
            }
            if (method == "post" && !single && path.Split('/')[^1] is "users" or "credentials" or "workspaces" or "api-keys" or "github-apps" or "connections")
            {
                Assert.True(statuses.IsSupersetOf(["400", "409", "410", "422"]) && headers.Contains("Idempotency-Key"), $"POST {path}: idempotency answers");
            }
        }
    }

    [Fact]
    public void Schemas_AreNamedAndListingLimitsAreNumbers()
    {
        var names = root.GetProperty("components").GetProperty("schemas").EnumerateObject().Select(s => s.Name).ToList();
        var limits = Operations().SelectMany(o => o.Operation.TryGetProperty("parameters", out var p) ? p.EnumerateArray() : default)
            .Where(p => p.GetProperty("name").GetString() == "limit").ToList();

        Assert.DoesNotContain(names, n => n.Contains("Anonymous", StringComparison.OrdinalIgnoreCase) || n.Contains('`', StringComparison.Ordinal));
        Assert.Contains("HealthStatus", names);
        Assert.NotEmpty(limits);
        Assert.All(limits, l => Assert.Equal("integer", l.GetProperty("schema").GetProperty("type").GetString()));
    }

    [Fact]
    public void Document_HoldsNoSecretAndProbesTakeNoKey()
    {
        Assert.DoesNotMatch(SecretShape(), served);
        Assert.Equal("bearer", root.GetProperty("components").GetProperty("securitySchemes").GetProperty("apiKey").GetProperty("scheme").GetString());
        Assert.Equal(0, root.GetProperty("paths").GetProperty("/healthz").GetProperty("get").GetProperty("security").GetArrayLength());
        Assert.True(!root.TryGetProperty("servers", out var servers) || servers.GetArrayLength() == 0, "servers: clients bring the address");
    }

    private IEnumerable<(string Path, string Method, JsonElement Operation)> Operations() =>
        root.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject().Select(o => (p.Name, o.Name, o.Value)));

    [GeneratedRegex("^[a-z][a-zA-Z0-9]*$")]
    private static partial Regex CamelCase();

    // API keys, bootstrap and session tokens, provider keys: a real-looking one anywhere (an example) fails.
    [GeneratedRegex(@"(xar|xbt|xst)_[A-Za-z0-9_-]{12,}|sk-[A-Za-z0-9-]{12,}|gh[pousr]_[A-Za-z0-9]{12,}")]
    private static partial Regex SecretShape();
}
