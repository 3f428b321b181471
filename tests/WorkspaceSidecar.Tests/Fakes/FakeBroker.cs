using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Xares.Sidecar.Tests.Fakes;

/// <summary>A real gRPC server on loopback (h2c) that can be stopped and started again on the same port.</summary>
internal sealed class FakeBroker : IAsyncDisposable
{
    private WebApplication? _app;

    private FakeBroker(FakeBrokerState state) => State = state;

    public FakeBrokerState State { get; }

    public int Port { get; private set; }

    public Uri Url => new($"http://127.0.0.1:{Port}");

    public static async Task<FakeBroker> StartAsync(FakeBrokerState? state = null)
    {
        var broker = new FakeBroker(state ?? new FakeBrokerState());
        await broker.StartAsync(port: 0);
        return broker;
    }

    private async Task StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(State);
        builder.Services.AddSingleton<FakeBrokerService>();
        var app = builder.Build();
        app.MapGrpcService<FakeBrokerService>();
        await app.StartAsync();
        _app = app;
        Port = new Uri(app.Urls.First()).Port;
    }

    /// <summary>Stops serving: open streams break, new connections are refused.</summary>
    public async Task StopAsync()
    {
        if (_app is null)
        {
            return;
        }
        State.KillStreams();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    public Task RestartAsync() => StartAsync(Port);

    public ValueTask DisposeAsync() => new(StopAsync());
}
