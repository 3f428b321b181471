using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using Xares.Broker.Api;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Hosting;

/// <summary>One access-log line per REST request, none per gRPC call, one warning per failed authentication.</summary>
public sealed class AccessLogTests
{
    private const string AccessTemplate = "HTTP {RequestMethod} {RequestPath} answered {StatusCode} in {Elapsed:0.0} ms";

    [Fact]
    public async Task RestRequest_OneAccessLineWithStatusIdAndKey_NoQueryString()
    {
        var sink = new CapturingLogSink();
        await using var host = await BrokerTestHost.StartAsync(services: services => services.AddSingleton<ILogEventSink>(sink));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/users?limit=5&probe=query-value-7");
        request.Headers.Add(RequestIds.Header, "access-log-id-1");

        using var response = await host.Admin.SendAsync(request);

        response.EnsureSuccessStatusCode();
        var line = Assert.Single(AccessLines(sink), e => e.Properties[RequestIds.LogProperty].ToString() == "\"access-log-id-1\"");
        Assert.Equal(LogEventLevel.Information, line.Level);
        Assert.Equal("\"GET\"", line.Properties["RequestMethod"].ToString());
        Assert.Equal("\"/api/v1/users\"", line.Properties["RequestPath"].ToString());
        Assert.Equal("200", line.Properties["StatusCode"].ToString());
        Assert.StartsWith("\"key_", line.Properties["ApiKeyId"].ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("query-value-7", line.RenderMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain(host.AdminKey, string.Join(' ', line.Properties.Values), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GrpcCalls_NoAccessLine()
    {
        var sink = new CapturingLogSink();
        await using var host = await BrokerTestHost.StartAsync(services: services => services.AddSingleton<ILogEventSink>(sink));
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, await host.CreateUserAsync())).OpenAsync();

        await sidecar.Grpc.ListGitTargetsAsync(new ListGitTargetsRequest(), sidecar.Auth);

        Assert.DoesNotContain(AccessLines(sink), e => e.Properties["RequestPath"].ToString().Contains("SidecarBroker", StringComparison.Ordinal));
        Assert.Contains(AccessLines(sink), e => e.Properties["RequestPath"].ToString() == "\"/api/v1/workspaces\"");
    }

    [Fact]
    public async Task FailedRestAuthentication_OneWarningWithoutTheKey()
    {
        const string forged = "xar_AAAAforgedAccessLogforgedforgedforgedforgedfo";
        var sink = new CapturingLogSink();
        await using var host = await BrokerTestHost.StartAsync(services: services => services.AddSingleton<ILogEventSink>(sink));
        using var attacker = host.CreateClient(forged);

        await (await attacker.GetAsync("/api/v1/users")).ProblemAsync(401);

        var failure = Assert.Single(sink.Events, e => e.Level >= LogEventLevel.Warning && e.MessageTemplate.Text.StartsWith("Authentication failed", StringComparison.Ordinal));
        Assert.Equal("\"rest\"", failure.Properties["Surface"].ToString());
        Assert.DoesNotContain(sink.Events, e => e.MessageTemplate.Text.Contains("was not authenticated", StringComparison.Ordinal));
        Assert.Single(AccessLines(sink), e => e.Properties["StatusCode"].ToString() == "401");
        Assert.DoesNotContain(sink.Events, e => e.RenderMessage().Contains(forged, StringComparison.Ordinal)
            || e.Properties.Values.Any(v => v.ToString().Contains(forged, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task FailedGrpcAuthentication_OneWarningWithoutTheToken()
    {
        const string forged = "xst_forgedSessionTokenForAccessLogTests00000000000";
        var sink = new CapturingLogSink();
        await using var host = await BrokerTestHost.StartAsync(services: services => services.AddSingleton<ILogEventSink>(sink));
        var grpc = new SidecarBroker.SidecarBrokerClient(host.GrpcChannel);

        await Assert.ThrowsAsync<RpcException>(async () => await grpc.ListGitTargetsAsync(new ListGitTargetsRequest(),
            new Metadata { { "authorization", $"Bearer {forged}" } }));
        await Assert.ThrowsAsync<RpcException>(async () => await grpc.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = "xbt_forgedBootstrapToken000000000000000000000" }));

        var failures = sink.Events.Where(e => e.MessageTemplate.Text.StartsWith("Authentication failed", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, failures.Count);
        Assert.All(failures, e => Assert.Equal("\"grpc\"", e.Properties["Surface"].ToString()));
        Assert.DoesNotContain(sink.Events, e => e.Properties.Values.Any(v => v.ToString().Contains(forged, StringComparison.Ordinal)));
    }

    private static IEnumerable<LogEvent> AccessLines(CapturingLogSink sink) =>
        sink.Events.Where(e => e.MessageTemplate.Text == AccessTemplate);
}
