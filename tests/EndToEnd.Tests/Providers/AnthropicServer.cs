using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Xares.EndToEnd.Tests.Providers;

/// <summary>
/// Speaks the documented Anthropic Messages API subset the SDK tests use: <c>POST /v1/messages</c>,
/// with <c>stream: true</c> as the named events message_start … message_stop. Keys arrive as <c>x-api-key</c>.
/// </summary>
internal sealed class AnthropicServer : ProviderServer
{
    public static readonly string[] StreamedWords = ["Hello", " from", " Claude", " stream"];

    /// <summary>The base URL an Anthropic credential names (the SDK's baseURL: the origin).</summary>
    public string BaseUrl => Origin;

    public static async Task<AnthropicServer> StartNewAsync()
    {
        var server = new AnthropicServer();
        await server.StartAsync();
        return server;
    }

    protected override string? PresentedKey(HttpRequest request) =>
        request.Headers["x-api-key"].ToString() is { Length: > 0 } key ? key : null;

    protected override Task RefuseAsync(HttpContext context) => context.Response.WriteAsJsonAsync(new
    {
        type = "error", error = new { type = "authentication_error", message = "invalid x-api-key" },
    });

    protected override async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Method != "POST" || request.Path != "/v1/messages")
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsJsonAsync(new { type = "error", error = new { type = "not_found_error", message = "Unknown route" } });
            return;
        }
        using var body = await JsonDocument.ParseAsync(request.Body);
        var stream = body.RootElement.TryGetProperty("stream", out var flag) && flag.ValueKind == JsonValueKind.True;
        var message = new
        {
            id = "msg_test", type = "message", role = "assistant", model = "claude-test",
            content = stream ? (object)Array.Empty<object>() : new[] { new { type = "text", text = "Hello from the fake Anthropic" } },
            stop_reason = stream ? null : "end_turn", stop_sequence = (string?)null,
            usage = new { input_tokens = 9, output_tokens = stream ? 1 : 4 },
        };
        if (!stream)
        {
            await context.Response.WriteAsJsonAsync(message);
            return;
        }
        context.Response.ContentType = "text/event-stream";
        var response = context.Response;
        await SendEventAsync(response, "message_start", JsonSerializer.Serialize(new { type = "message_start", message }));
        await SendEventAsync(response, "content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""");
        foreach (var word in StreamedWords)
        {
            await SendEventAsync(response, "content_block_delta", JsonSerializer.Serialize(new { type = "content_block_delta", index = 0, delta = new { type = "text_delta", text = word } }));
        }
        await SendEventAsync(response, "content_block_stop", """{"type":"content_block_stop","index":0}""");
        await SendEventAsync(response, "message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":4}}""");
        await response.WriteAsync("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    }
}
