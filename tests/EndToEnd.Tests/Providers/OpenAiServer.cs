using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Xares.EndToEnd.Tests.Providers;

/// <summary>
/// Speaks the documented OpenAI API subset the SDK and Codex tests use: <c>GET /v1/models</c>,
/// <c>POST /v1/chat/completions</c> (with <c>stream: true</c> as server-sent events ending in
/// <c>data: [DONE]</c>) and <c>POST /v1/responses</c> (streamed as the Responses API's named events).
/// It offers no WebSocket: <c>GET /v1/responses</c> (Codex's upgrade attempt, also when a proxy
/// stripped the Upgrade header) is 426, which sends Codex to its HTTP fallback at once.
/// Keys arrive as <c>Authorization: Bearer</c>.
/// </summary>
internal sealed class OpenAiServer : ProviderServer
{
    public static readonly string[] StreamedWords = ["Hello", " from", " the", " stream"];

    public const string ResponsesAnswer = "Hello from the fake Responses API";

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
            await (request.Method == "POST" ? StreamResponseAsync(context) : RefuseUpgradeAsync(context));
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
        var model = body.RootElement.TryGetProperty("model", out var m) ? m.GetString() : "gpt-test";
        var response = context.Response;
        response.ContentType = "text/event-stream";
        var created = new { id = "resp_test", @object = "response", created_at = 0, status = "in_progress", model, output = Array.Empty<object>() };
        var item = new
        {
            type = "message", id = "msg_test", role = "assistant", status = "completed",
            content = new[] { new { type = "output_text", text = ResponsesAnswer, annotations = Array.Empty<object>() } },
        };
        await SendEventAsync(response, "response.created", JsonSerializer.Serialize(new { type = "response.created", response = created }));
        await SendEventAsync(response, "response.output_item.added", JsonSerializer.Serialize(new
        {
            type = "response.output_item.added", output_index = 0,
            item = new { item.type, item.id, item.role, status = "in_progress", content = Array.Empty<object>() },
        }));
        await SendEventAsync(response, "response.output_text.delta", JsonSerializer.Serialize(new
        {
            type = "response.output_text.delta", item_id = item.id, output_index = 0, content_index = 0, delta = ResponsesAnswer,
        }));
        await SendEventAsync(response, "response.output_item.done", JsonSerializer.Serialize(new { type = "response.output_item.done", output_index = 0, item }));
        await SendEventAsync(response, "response.completed", JsonSerializer.Serialize(new
        {
            type = "response.completed",
            response = new
            {
                created.id, created.@object, created.created_at, status = "completed", model, output = new[] { item },
                usage = new
                {
                    input_tokens = 12, output_tokens = 6, total_tokens = 18,
                    input_tokens_details = new { cached_tokens = 0 }, output_tokens_details = new { reasoning_tokens = 0 },
                },
            },
        }));
    }
}
