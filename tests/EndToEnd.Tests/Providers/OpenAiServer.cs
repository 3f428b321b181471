using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Xares.EndToEnd.Tests.Providers;

/// <summary>
/// Speaks the documented OpenAI API subset the SDK and Codex tests use: <c>GET /v1/models</c>,
/// <c>POST /v1/chat/completions</c> (with <c>stream: true</c> as server-sent events ending in
/// <c>data: [DONE]</c>), <c>POST /v1/responses</c> (streamed as the Responses API's named events) and
/// the Responses API's WebSocket mode on <c>GET /v1/responses</c>: each <c>response.create</c> text
/// message is answered with the same events as JSON text messages, up to <c>response.completed</c>
/// (one with <c>"generate": false</c>, Codex's warm-up, gets created and completed only). A plain
/// <c>GET /v1/responses</c> (a proxy that stripped the Upgrade header) is 426, and so is every
/// handshake when <see cref="OffersWebSocket"/> is off. Keys arrive as <c>Authorization: Bearer</c>.
/// </summary>
internal sealed class OpenAiServer : ProviderServer
{
    public static readonly string[] StreamedWords = ["Hello", " from", " the", " stream"];

    public const string ResponsesAnswer = "Hello from the fake Responses API";

    /// <summary>Off: WebSocket handshakes are 426, as from a provider without WebSocket mode.</summary>
    public bool OffersWebSocket { get; set; } = true;

    /// <summary>Every text message received over a Responses WebSocket.</summary>
    public IReadOnlyList<string> SocketMessages => [.. _socketMessages];

    /// <summary>How many responses were answered over a WebSocket (generate: false warm-ups not counted).</summary>
    public int SocketAnswers => _socketAnswers;

    private readonly ConcurrentQueue<string> _socketMessages = new();
    private int _socketAnswers;

    /// <summary>The base URL an OpenAI credential names (the SDK's baseURL: origin + /v1).</summary>
    public string BaseUrl => Origin + "/v1";

    public static async Task<OpenAiServer> StartNewAsync()
    {
        var server = new OpenAiServer();
        await server.StartAsync();
        return server;
    }

    protected override string? PresentedKey(HttpRequest request) =>
        request.Headers.Authorization.ToString() is var value && value.StartsWith("Bearer ", StringComparison.Ordinal) ? value["Bearer ".Length..] : null;

    protected override Task RefuseAsync(HttpContext context) => context.Response.WriteAsJsonAsync(new
    {
        error = new { message = "Incorrect API key provided.", type = "invalid_request_error", code = "invalid_api_key" },
    });

    protected override async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Method == "GET" && request.Path == "/v1/models")
        {
            await context.Response.WriteAsJsonAsync(new { @object = "list", data = new[] { new { id = "gpt-test", @object = "model", created = 0, owned_by = "xares-tests" } } });
            return;
        }
        if (request.Path == "/v1/responses")
        {
            await (request.Method == "POST" ? StreamResponseAsync(context)
                : context.WebSockets.IsWebSocketRequest && OffersWebSocket ? ServeWebSocketAsync(context)
                : RefuseUpgradeAsync(context));
            return;
        }
        if (request.Method != "POST" || request.Path != "/v1/chat/completions")
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "Unknown route", type = "invalid_request_error" } });
            return;
        }
        using var body = await JsonDocument.ParseAsync(request.Body);
        var stream = body.RootElement.TryGetProperty("stream", out var flag) && flag.ValueKind == JsonValueKind.True;
        if (!stream)
        {
            await context.Response.WriteAsJsonAsync(new
            {
                id = "chatcmpl-test", @object = "chat.completion", created = 0, model = "gpt-test",
                choices = new[] { new { index = 0, message = new { role = "assistant", content = "Hello from the fake OpenAI" }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 11, completion_tokens = 5, total_tokens = 16 },
            });
            return;
        }
        context.Response.ContentType = "text/event-stream";
        foreach (var word in StreamedWords)
        {
            await SendEventAsync(context.Response, null, JsonSerializer.Serialize(new
            {
                id = "chatcmpl-test", @object = "chat.completion.chunk", created = 0, model = "gpt-test",
                choices = new[] { new { index = 0, delta = new { content = word }, finish_reason = (string?)null } },
            }));
        }
        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    private static Task RefuseUpgradeAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
        return context.Response.WriteAsJsonAsync(new { error = new { message = "WebSocket mode is not offered here; use POST", type = "invalid_request_error" } });
    }

    /// <summary>The Responses API's streamed form: created, one output message, completed with usage.</summary>
    private async Task StreamResponseAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        context.Response.ContentType = "text/event-stream";
        foreach (var (name, json) in ResponseEvents(body.RootElement, generate: true))
        {
            await SendEventAsync(context.Response, name, json);
        }
    }

    /// <summary>WebSocket mode: the same events as text messages, per response.create, until the client closes.</summary>
    private async Task ServeWebSocketAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[1024 * 1024];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }
                var length = result.Count;
                while (!result.EndOfMessage && length < buffer.Length)
                {
                    result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), context.RequestAborted);
                    length += result.Count;
                }
                var text = Encoding.UTF8.GetString(buffer, 0, length);
                _socketMessages.Enqueue(text);
                using var message = JsonDocument.Parse(text);
                if (!message.RootElement.TryGetProperty("type", out var type) || type.GetString() != "response.create")
                {
                    continue;
                }
                var generate = !(message.RootElement.TryGetProperty("generate", out var g) && g.ValueKind == JsonValueKind.False);
                if (generate)
                {
                    // Counted before answering: a client that has its answer may close while the last event's pause runs.
                    Interlocked.Increment(ref _socketAnswers);
                }
                foreach (var (_, json) in ResponseEvents(message.RootElement, generate))
                {
                    await SendSocketEventAsync(socket, json, context.RequestAborted);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away.
        }
    }

    private static IEnumerable<(string Name, string Json)> ResponseEvents(JsonElement request, bool generate)
    {
        var model = request.TryGetProperty("model", out var m) ? m.GetString() : "gpt-test";
        var created = new { id = "resp_test", @object = "response", created_at = 0, status = "in_progress", model, output = Array.Empty<object>() };
        var item = new
        {
            type = "message", id = "msg_test", role = "assistant", status = "completed",
            content = new[] { new { type = "output_text", text = ResponsesAnswer, annotations = Array.Empty<object>() } },
        };
        yield return ("response.created", JsonSerializer.Serialize(new { type = "response.created", response = created }));
        if (generate)
        {
            yield return ("response.output_item.added", JsonSerializer.Serialize(new
            {
                type = "response.output_item.added", output_index = 0,
                item = new { item.type, item.id, item.role, status = "in_progress", content = Array.Empty<object>() },
            }));
            yield return ("response.output_text.delta", JsonSerializer.Serialize(new
            {
                type = "response.output_text.delta", item_id = item.id, output_index = 0, content_index = 0, delta = ResponsesAnswer,
            }));
            yield return ("response.output_item.done", JsonSerializer.Serialize(new { type = "response.output_item.done", output_index = 0, item }));
        }
        yield return ("response.completed", JsonSerializer.Serialize(new
        {
            type = "response.completed",
            response = new
            {
                created.id, created.@object, created.created_at, status = "completed", model,
                output = generate ? new object[] { item } : [],
                usage = new
                {
                    input_tokens = generate ? 12 : 0, output_tokens = generate ? 6 : 0, total_tokens = generate ? 18 : 0,
                    input_tokens_details = new { cached_tokens = 0 }, output_tokens_details = new { reasoning_tokens = 0 },
                },
            },
        }));
    }
}
