using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;

namespace Xares.Sidecar.Ai.Proxy;

/// <summary>
/// The loopback proxies of one `run`: a lean Kestrel (no configuration sources, no logging, so
/// ASPNETCORE_* variables cannot add listeners) with one 127.0.0.1 listener per provider on a port
/// the kernel picks. Bound before the tool starts; disposed when it exits, which kills the placeholders.
/// </summary>
internal sealed class AiProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly UsageReporter _usage;

    private AiProxy(WebApplication app, UsageReporter usage, IReadOnlyList<ProxyRoute> routes)
    {
        _app = app;
        _usage = usage;
        Routes = routes;
    }

    public IReadOnlyList<ProxyRoute> Routes { get; }

    public UsageReporter Usage => _usage;

    public static async Task<AiProxy> StartAsync(IReadOnlyList<ProxyRoute> routes, ProxyForwarder forwarder, UsageReporter usage)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        var listeners = new List<(ListenOptions Listener, ProxyRoute Route)>();
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            foreach (var route in routes)
            {
                options.Listen(IPAddress.Loopback, 0, listener =>
                {
                    listener.Protocols = HttpProtocols.Http1;
                    listeners.Add((listener, route));
                });
            }
        });
        var app = builder.Build();
        // Only requests asking for an upgrade pass the WebSocket middleware (plain HTTP keeps its path);
        // it makes handshakes acceptable, ProxyGuard decides which are (OpenAI's Responses WebSocket).
        app.UseWhen(context => context.Request.Headers.Upgrade.Count > 0, branch => branch.UseWebSockets());
        app.Run(forwarder.HandleAsync);
        await app.StartAsync();
        foreach (var (listener, route) in listeners)
        {
            route.Port = listener.IPEndPoint!.Port;
        }
        forwarder.Bind(routes);
        return new AiProxy(app, usage, routes);
    }

    public async ValueTask DisposeAsync()
    {
        using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await _app.StopAsync(stopping.Token);
        }
        await _app.DisposeAsync();
        await _usage.DrainAsync();
    }
}
