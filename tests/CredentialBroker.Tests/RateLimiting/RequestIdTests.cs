using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Xares.Broker.Api;
using Xares.Broker.Tests.Credentials;
using Xares.Broker.Tests.Support;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.RateLimiting;

public sealed class RequestIdTests
{
    [Fact]
    public async Task SaneIncomingId_RoundTripsInHeaderAndProblem()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/users/usr_missing");
        request.Headers.Add(RequestIds.Header, "lb-7f3a:0042");

        using var response = await host.Admin.SendAsync(request);

        var problem = await response.ProblemAsync(404);
        Assert.Equal("lb-7f3a:0042", Assert.Single(response.Headers.GetValues(RequestIds.Header)));
        Assert.Equal("lb-7f3a:0042", problem.GetProperty("requestId").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("quote\"d")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123456789")]
    public async Task InsaneIncomingId_ReplacedWithAGeneratedOne(string incoming)
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var anonymous = host.CreateClient(null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/users");
        request.Headers.TryAddWithoutValidation(RequestIds.Header, incoming);

        using var response = await anonymous.SendAsync(request);

        var id = Assert.Single(response.Headers.GetValues(RequestIds.Header));
        Assert.NotEqual(incoming, id);
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal(id, (await response.ProblemAsync(401)).GetProperty("requestId").GetString());
    }

    [Fact]
    public async Task NoIncomingId_EachRequestGetsItsOwn()
    {
        await using var host = await BrokerTestHost.StartAsync();

        using var first = await host.Admin.GetAsync("/healthz");
        using var second = await host.Admin.GetAsync("/healthz");

        Assert.NotEqual(first.Headers.GetValues(RequestIds.Header).Single(), second.Headers.GetValues(RequestIds.Header).Single());
    }

    [Fact]
    public async Task RestRequest_LogLinesWrittenDuringItCarryItsId()
    {
        var sink = new CapturingLogSink();
        // One failure spends the whole budget, so the throttle logs a warning inside the request.
        await using var host = await BrokerTestHost.StartAsync(o => o with { AuthFailureLimit = 1 }, services => services.AddSingleton<ILogEventSink>(sink));
        using var attacker = host.CreateClient("xar_AAAAforgedforgedforgedforgedforgedforgedforg");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/users");
        request.Headers.Add(RequestIds.Header, "rest-log-id-1");

        await (await attacker.SendAsync(request)).ProblemAsync(401);

        var line = Assert.Single(sink.Events, e => e.MessageTemplate.Text.StartsWith("Too many failed authentications", StringComparison.Ordinal));
        Assert.Equal("\"rest-log-id-1\"", line.Properties[RequestIds.LogProperty].ToString());
    }

    [Fact]
    public async Task GrpcCall_IdInResponseHeadersAndOnItsLogLines()
    {
        var sink = new CapturingLogSink();
        await using var host = await BrokerTestHost.StartAsync(services: services => services.AddSingleton<ILogEventSink>(sink));
        var alice = await host.CreateUserAsync("alice");
        var workspace = await SidecarClient.CreateWorkspaceAsync(host, alice);
        var grpc = new SidecarBroker.SidecarBrokerClient(host.GrpcChannel);

        using var call = grpc.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = workspace.BootstrapToken },
            new Metadata { { "x-request-id", "grpc-log-id-1" } });
        await call.ResponseAsync;

        Assert.Equal("grpc-log-id-1", (await call.ResponseHeadersAsync).GetValue("x-request-id"));
        var line = Assert.Single(sink.Events, e => e.MessageTemplate.Text.StartsWith("Session {SessionId} opened", StringComparison.Ordinal));
        Assert.Equal("\"grpc-log-id-1\"", line.Properties[RequestIds.LogProperty].ToString());
    }

    [Theory]
    [InlineData("abc", true)]
    [InlineData("0af7651916cd43dd8448eb211c80319c", true)]
    [InlineData("a\u00e9b", false)]
    [InlineData("tab\there", false)]
    [InlineData("back\\slash", false)]
    [InlineData(null, false)]
    public void IsSane_ShortPrintableAsciiOnly(string? id, bool sane) => Assert.Equal(sane, RequestIds.IsSane(id));
}
