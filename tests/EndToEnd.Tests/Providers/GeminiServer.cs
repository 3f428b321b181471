using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Xares.EndToEnd.Tests.Providers;

/// <summary>
/// Speaks the documented Gemini API subset Gemini CLI uses:
/// <c>POST /v1beta/models/{model}:generateContent</c> (one JSON answer) and
/// <c>POST /v1beta/models/{model}:streamGenerateContent?alt=sse</c> (the same answer as
/// <c>data:</c> events, one word each). A request for JSON output (<c>generationConfig.responseMimeType</c>
/// <c>application/json</c>, as Gemini CLI's model router sends) gets an object with the
/// <c>responseJsonSchema</c>'s properties filled in. Keys arrive as <c>x-goog-api-key</c>.
/// </summary>
internal sealed class GeminiServer : ProviderServer
{
    public static readonly string[] StreamedWords = ["Hello", " from", " the", " fake", " Gemini"];

    /// <summary>The base URL a Google credential names (the SDK's base URL: the origin).</summary>
    public string BaseUrl => Origin;

    public static async Task<GeminiServer> StartNewAsync()
    {
        var server = new GeminiServer { ChunkDelay = TimeSpan.FromMilliseconds(20) };
        await server.StartAsync();
        return server;
    }

    protected override string? PresentedKey(HttpRequest request) =>
        request.Headers["x-goog-api-key"].ToString() is { Length: > 0 } key ? key : null;

    protected override Task RefuseAsync(HttpContext context) => context.Response.WriteAsJsonAsync(new
    {
        error = new { code = 400, message = "API key not valid. Please pass a valid API key.", status = "INVALID_ARGUMENT" },
    });

    protected override async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        var stream = path.EndsWith(":streamGenerateContent", StringComparison.Ordinal);
        if (request.Method != "POST" || !path.StartsWith("/v1beta/models/", StringComparison.Ordinal)
            || !(stream || path.EndsWith(":generateContent", StringComparison.Ordinal)))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsJsonAsync(new { error = new { code = 404, message = "Unknown route", status = "NOT_FOUND" } });
            return;
        }
        using var body = await JsonDocument.ParseAsync(request.Body);
        if (!stream)
        {
            var config = body.RootElement.TryGetProperty("generationConfig", out var c) ? c : default;
            await context.Response.WriteAsJsonAsync(Answer(JsonRequested(config) is { } json ? json : string.Concat(StreamedWords), "STOP"));
            return;
        }
        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i < StreamedWords.Length; i++)
        {
            var last = i == StreamedWords.Length - 1;
            await SendEventAsync(context.Response, null, JsonSerializer.Serialize(Answer(StreamedWords[i], last ? "STOP" : null)));
        }
    }

    /// <summary>A JSON answer matching the requested schema's properties, or null for a text answer.</summary>
    private static string? JsonRequested(JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object
            || !config.TryGetProperty("responseMimeType", out var mime) || mime.GetString() != "application/json")
        {
            return null;
        }
        var answer = new Dictionary<string, object>();
        if (config.TryGetProperty("responseJsonSchema", out var schema) && schema.TryGetProperty("properties", out var properties))
        {
            foreach (var property in properties.EnumerateObject())
            {
                var type = property.Value.TryGetProperty("type", out var t) ? t.GetString()?.ToUpperInvariant() : null;
                answer[property.Name] = type switch { "INTEGER" or "NUMBER" => 1, "BOOLEAN" => false, _ => "stand-in" };
            }
        }
        return JsonSerializer.Serialize(answer);
    }

    private static object Answer(string text, string? finishReason) => new
    {
        candidates = new[]
        {
            new { content = new { role = "model", parts = new[] { new { text } } }, finishReason, index = 0 },
        },
        usageMetadata = new { promptTokenCount = 7, candidatesTokenCount = 5, totalTokenCount = 12 },
        modelVersion = "gemini-test",
    };
}
