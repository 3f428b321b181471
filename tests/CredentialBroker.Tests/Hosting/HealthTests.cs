using System.Net;
using System.Text.Json;
using Grpc.Health.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Hosting;

public sealed class HealthTests : IAsyncLifetime
{
    private BrokerTestHost _host = null!;

    public async Task InitializeAsync() => _host = await BrokerTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task GrpcHealth_OverallService_Serving()
    {
        var client = new Health.HealthClient(_host.GrpcChannel);

        var reply = await client.CheckAsync(new HealthCheckRequest { Service = "" });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Readyz_Ready_ReportsDatabaseAndLoadedKeyring()
    {
        using var client = _host.CreateClient(null);

        var response = await client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ready", body.RootElement.GetProperty("status").GetString());
        var keyring = body.RootElement.GetProperty("keyring");
        Assert.True(keyring.GetProperty("loaded").GetBoolean());
        Assert.Equal(1, keyring.GetProperty("currentVersion").GetInt32());
    }

    [Fact]
    public void Host_ShutdownTimeout_LeavesTimeForInFlightRequests() =>
        Assert.Equal(TimeSpan.FromSeconds(15), _host.Get<IOptions<HostOptions>>().Value.ShutdownTimeout);

    [Fact]
    public async Task Dispose_QueuedWrites_CommitBeforeTheDatabaseCloses()
    {
        var host = await BrokerTestHost.StartAsync();
        var queue = host.Get<WriteQueue>();
        var units = Enumerable.Range(0, 200)
            .Select(i => queue.ExecuteAsync((c, t) => Convert.ToInt64(Sql.Scalar(c, t, "SELECT @i", ("@i", i)))))
            .ToList();

        await host.DisposeAsync();

        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), await Task.WhenAll(units));
    }

    [Fact]
    public async Task Healthz_Alive_Ok()
    {
        using var client = _host.CreateClient(null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }
}
