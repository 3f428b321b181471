using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
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

    /// <summary>Text messages that reached its Responses WebSocket (<c>/v1/responses</c>).</summary>
    public ConcurrentQueue<string> SocketMessages { get; } = new();

    /// <summary>Set when a WebSocket it accepted ended, with how (close status or the exception type).</summary>
    public TaskCompletionSource<string> SocketEnded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When set, WebSocket handshakes are answered with this status (a provider without WebSocket mode).</summary>
    public int? RefuseWebSocketsWith { get; set; }

    /// <summary>Where /v1/redirect points (another server).</summary>
    public string RedirectTarget { get; set; } = "http://127.0.0.1:9/";

    public static async Task<FakeProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var provider = new FakeProvider(app);
        app.UseWebSockets();
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
        if (context.WebSockets.IsWebSocketRequest)
        {
            await ServeWebSocketAsync(context);
            return;
        }
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

    /// <summary>The Responses API's WebSocket mode: each response.create is answered created, one delta, completed with usage.</summary>
    private async Task ServeWebSocketAsync(HttpContext context)
    {
        if (RefuseWebSocketsWith is not null || context.Request.Path != "/v1/responses")
        {
            context.Response.StatusCode = RefuseWebSocketsWith ?? StatusCodes.Status426UpgradeRequired;
            return;
        }
        context.Response.Headers["x-models-etag"] = "etag-1";
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[1024 * 1024];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    SocketEnded.TrySetResult("closed " + result.CloseStatus);
                    return;
                }
                var length = result.Count;
                while (!result.EndOfMessage)
                {
                    result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), context.RequestAborted);
                    length += result.Count;
                }
                var text = Encoding.UTF8.GetString(buffer, 0, length);
                SocketMessages.Enqueue(text);
                if (text.Contains("\"response.create\"", StringComparison.Ordinal))
                {
                    foreach (var json in new[]
                    {
                        """{"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}""",
                        """{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hello over the socket"}""",
                        """{"type":"response.completed","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":5,"output_tokens":2,"total_tokens":7}}}""",
                    })
                    {
                        await socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, context.RequestAborted);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            SocketEnded.TrySetResult(ex.GetType().Name);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
