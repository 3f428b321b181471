using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Xares.Sidecar.Tests.Fakes;

/// <summary>A tiny upstream AI API on loopback that records what reached it.</summary>
internal sealed class FakeProvider : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeProvider(WebApplication app) => _app = app;

    public ConcurrentQueue<(string Method, string PathAndQuery, Dictionary<string, string> Headers)> Requests { get; } = new();

    public string BaseUrl { get; private set; } = "";

    /// <summary>Where /v1/redirect points (another server).</summary>
    public string RedirectTarget { get; set; } = "http://127.0.0.1:9/";

    public static async Task<FakeProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var provider = new FakeProvider(app);
        app.Run(provider.HandleAsync);
        await app.StartAsync();
        provider.BaseUrl = app.Urls.First();
        return provider;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        Requests.Enqueue((request.Method, request.Path + request.QueryString,
            request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString())));
        switch (request.Path.Value)
        {
            case "/v1/redirect":
                context.Response.StatusCode = 302;
                context.Response.Headers.Location = RedirectTarget;
                return;
            case "/v1/stream":
                context.Response.ContentType = "text/event-stream";
                for (var i = 0; i < 3; i++)
                {
                    await context.Response.WriteAsync($"data: {{\"n\":{i}}}\n\n");
                    await context.Response.Body.FlushAsync();
                    await Task.Delay(150);
                }
                await context.Response.WriteAsync("data: [DONE]\n\n");
                return;
            default:
                context.Response.ContentType = "application/json";
                context.Response.Headers["Access-Control-Allow-Origin"] = "*";
                await context.Response.WriteAsync("""{"id":"x","usage":{"prompt_tokens":7,"completion_tokens":3}}""");
                return;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
