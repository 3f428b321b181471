using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Xares.Broker.Tests.CredentialHealth;

/// <summary>
/// A real Kestrel server on a loopback port that plays a provider's API: the test maps the
/// provider's documented routes; every request is recorded (path, query, headers) before routing.
/// </summary>
internal sealed class FakeProvider : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeProvider(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Origin => $"http://127.0.0.1:{Port}";

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public static async Task<FakeProvider> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        FakeProvider? self = null;
        app.Use(async (context, next) =>
        {
            self!.Requests.Enqueue(new RecordedRequest(context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            await next(context);
        });
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        self = new FakeProvider(app, new Uri(address).Port);
        return self;
    }

    /// <summary>Answers 200 with <paramref name="json"/> when <paramref name="header"/> equals <paramref name="expected"/>, else 401.</summary>
    public static RequestDelegate Guarded(string header, string expected, string json, IDictionary<string, string>? headers = null) => async context =>
    {
        if (context.Request.Headers[header].ToString() != expected)
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("{\"message\":\"Bad credentials\"}");
            return;
        }
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json);
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed record RecordedRequest(string PathAndQuery, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>A loopback TCP port that counts the connections made to it (and says nothing): what rule j must never reach.</summary>
internal sealed class ConnectionCounter : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private int _connections;

    public ConnectionCounter()
    {
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
