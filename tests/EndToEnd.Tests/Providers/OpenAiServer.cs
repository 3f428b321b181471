using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Xares.EndToEnd.Tests.Providers;

/// <summary>
/// Speaks the documented OpenAI API subset the SDK tests use: <c>GET /v1/models</c> and
/// <c>POST /v1/chat/completions</c> (with <c>stream: true</c> as server-sent events ending in
/// <c>data: [DONE]</c>). Keys arrive as <c>Authorization: Bearer</c>.
/// </summary>
internal sealed class OpenAiServer : ProviderServer
{
    public static readonly string[] StreamedWords = ["Hello", " from", " the", " stream"];

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
}
