using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Xares.EndToEnd.Tests.Providers;

/// <summary>What reached a provider server: the key it was called with, and where; <paramref name="WebSocket"/> for a WebSocket handshake.</summary>
internal sealed record ProviderCall(string Method, string PathAndQuery, string? PresentedKey, bool Accepted, bool WebSocket = false);

/// <summary>
/// A local stand-in for an AI provider's public API on 127.0.0.1: it accepts only the keys it
/// was told (the real key as stored in the broker), answers like the documented API, and records
/// every key presented to it, so tests can see which key reached the provider.
/// </summary>
internal abstract class ProviderServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<ProviderCall> _calls = new();
    private readonly ConcurrentDictionary<string, bool> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(long, string)> _events = new();
    private WebApplication? _app;

    /// <summary>e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Origin { get; private set; } = "";

    /// <summary>Delay between streamed chunks, so incremental delivery is visible.</summary>
    public TimeSpan ChunkDelay { get; set; } = TimeSpan.FromMilliseconds(120);

    /// <summary>When set, every request is answered 302 to this URL (a server that must never see the key).</summary>
    public string? RedirectTo { get; set; }

    public IReadOnlyList<ProviderCall> Calls => [.. _calls];

    /// <summary>Each streamed event, with the Unix time in ms at which the server began to write it.</summary>
    public IReadOnlyList<(long WritingAt, string Json)> StreamedEvents => [.. _events];

    public void AcceptKey(string key) => _keys[key] = true;

    protected async Task StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.UseWebSockets();
        app.Run(HandleAsync);
        await app.StartAsync();
        _app = app;
        Origin = app.Urls.First().TrimEnd('/');
    }

    /// <summary>The key as this provider's clients send it (Authorization: Bearer, x-api-key, …).</summary>
    protected abstract string? PresentedKey(HttpRequest request);

    protected abstract Task ServeAsync(HttpContext context);

    protected abstract Task RefuseAsync(HttpContext context);

    private async Task HandleAsync(HttpContext context)
    {
        var key = PresentedKey(context.Request);
        var accepted = key is not null && _keys.ContainsKey(key);
        _calls.Enqueue(new ProviderCall(context.Request.Method, context.Request.Path + context.Request.QueryString, key, accepted,
            context.WebSockets.IsWebSocketRequest));
        if (RedirectTo is not null)
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = RedirectTo;
            return;
        }
        if (!accepted)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await RefuseAsync(context);
            return;
        }
        await ServeAsync(context);
    }

    protected async Task SendEventAsync(HttpResponse response, string? name, string json)
    {
        _events.Enqueue((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), json));
        await response.WriteAsync((name is null ? "" : $"event: {name}\n") + $"data: {json}\n\n");
        await response.Body.FlushAsync();
        await Task.Delay(ChunkDelay);
    }

    /// <summary>One event as a WebSocket text message (the Responses API's WebSocket mode), paced like <see cref="SendEventAsync"/>.</summary>
    protected async Task SendSocketEventAsync(WebSocket socket, string json, CancellationToken cancellationToken)
    {
        _events.Enqueue((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), json));
        await socket.SendAsync(Encoding.UTF8.GetBytes(json).AsMemory(), WebSocketMessageType.Text, true, cancellationToken);
        await Task.Delay(ChunkDelay, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
