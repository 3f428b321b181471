using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xares.EndToEnd.Tests.Otlp;
using Xares.Protos.Broker.V1;

namespace Xares.EndToEnd.Tests.Operations;

/// <summary>
/// The published broker with `--otlp-endpoint` exports OTLP/HTTP protobuf to a receiver in the
/// test: a span per REST request and gRPC call, `db.write` spans under them and linked
/// `db.write_batch` spans, and never a secret (or a query string) in an attribute.
/// </summary>
public sealed class TracingTests
{
    [Fact]
    public async Task OtlpEndpoint_RestAndGrpcLease_SpansExportedWithoutSecrets()
    {
        using var directory = ScratchDirectory.Create("xe-otlp-");
        using var receiver = new OtlpReceiver();
        await using var broker = await BrokerProcess.StartAsync(directory, new BrokerLaunch(
            Arguments: ["--otlp-endpoint", receiver.Url],
            Environment: new Dictionary<string, string> { ["OTEL_BSP_SCHEDULE_DELAY"] = "200" }));
        using var admin = broker.CreateAdminClient();

        var secret = "otlpsecret-" + Guid.NewGuid().ToString("N");
        var user = await admin.CreateUserAsync("traced");
        await admin.CreateGitCredentialAsync(user, "https://git.traced.test", "alice", secret);
        var workspace = await admin.CreateWorkspaceAsync(user, "traced");
        // A token in a query string (callers must not, but may): it must not reach a span.
        var queryToken = "xar_querytoken" + Guid.NewGuid().ToString("N");
        await admin.GetRawAsync($"api/v1/audit?action=user.create&note={queryToken}");
        using var channel = GrpcChannel.ForAddress(broker.GrpcUrl);
        var client = new SidecarBroker.SidecarBrokerClient(channel);
        var session = await client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = workspace.BootstrapToken });
        var auth = new Metadata { { "authorization", "Bearer " + session.SessionToken } };
        var lease = await client.GetGitCredentialAsync(new GitCredentialRequest { Protocol = "https", Host = "git.traced.test" }, auth);
        Assert.Equal(secret, lease.Lease.Secret);

        const string leaseSpan = "POST /xares.broker.v1.SidecarBroker/GetGitCredential";
        Assert.True(await Poll.UntilAsync(() => Task.FromResult(receiver.Spans.Any(s => s.Span.Name == leaseSpan)
            && receiver.Spans.Any(s => s.Span.Name == "POST /api/v1/users/")), TimeSpan.FromSeconds(60)),
            string.Join('\n', receiver.Spans.Select(s => s.Span.Name).Concat(receiver.Unexpected)));

        var spans = receiver.Spans;
        var (resource, _, createUser) = spans.First(s => s.Span.Name == "POST /api/v1/users/");
        Assert.Equal("xares-broker", Attribute(resource.Attributes, "service.name"));
        Assert.Equal("201", Attribute(createUser.Attributes, "http.response.status_code"));
        Assert.Equal("/api/v1/users/", Attribute(createUser.Attributes, "http.route"));
        // Its write: a db.write span under the request, linked from the batch that committed it.
        var writes = spans.Where(s => s.Span.Name == "db.write" && s.Span.ParentSpanId == createUser.SpanId).Select(s => s.Span).ToList();
        Assert.NotEmpty(writes);
        Assert.All(writes, write => Assert.Equal(createUser.TraceId, write.TraceId));
        var batch = spans.First(s => s.Span.Name == "db.write_batch" && s.Span.Links.Any(l => writes.Any(w => w.SpanId == l.SpanId)));
        Assert.Equal(BrokerScope, batch.Scope.Name);
        Assert.Equal("sqlite", Attribute(batch.Span.Attributes, "db.system.name"));

        var issue = spans.Single(s => s.Span.Name == leaseSpan).Span;
        Assert.Equal("200", Attribute(issue.Attributes, "http.response.status_code"));
        Assert.Contains(spans, s => s.Span.Name == "db.write" && s.Span.ParentSpanId == issue.SpanId);
        Assert.Contains(spans, s => s.Span.Name == "POST /xares.broker.v1.SidecarBroker/OpenSession");
        Assert.DoesNotContain(spans, s => s.Span.Name.Contains("metrics", StringComparison.Ordinal) || s.Span.Name.Contains("healthz", StringComparison.Ordinal));

        var audit = spans.Single(s => s.Span.Name == "GET /api/v1/audit/").Span;
        Assert.Null(Attribute(audit.Attributes, "url.query"));
        var everything = string.Join('\n', spans.SelectMany(s => s.Span.Attributes.Concat(s.Resource.Attributes)).Select(a => $"{a.Key}={a.Value}"));
        foreach (var value in new[] { secret, broker.AdminKey, workspace.BootstrapToken, session.SessionToken, queryToken, "authorization", "Bearer" })
        {
            Assert.DoesNotContain(value, everything, StringComparison.OrdinalIgnoreCase);
        }
    }

    private const string BrokerScope = "Xares.Broker";

    private static string? Attribute(IEnumerable<KeyValue> attributes, string key) =>
        attributes.FirstOrDefault(a => a.Key == key)?.Value is { } value
            ? value.ValueCase == AnyValue.ValueOneofCase.IntValue ? value.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : value.StringValue
            : null;
}
