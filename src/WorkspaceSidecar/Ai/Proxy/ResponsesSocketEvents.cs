using System.Text.Json;

namespace Xares.Sidecar.Ai.Proxy;

/// <summary>
/// Reads the Responses API's WebSocket events, which are JSON text messages with a top-level
/// <c>type</c>: the client's <c>response.create</c> (one request each), and the server events that end
/// a response (<c>response.completed</c>, <c>.incomplete</c>, <c>.failed</c>, <c>error</c>), whose
/// <c>response.usage</c> holds the token counts.
/// </summary>
internal static class ResponsesSocketEvents
{
    public const string Create = "response.create";

    /// <summary>
    /// The <c>type</c> of a message from its first bytes (a message may arrive in several frames);
    /// null when the start holds no complete top-level <c>type</c> string.
    /// </summary>
    public static string? Type(ReadOnlySpan<byte> start, bool isWholeMessage)
    {
        try
        {
            var reader = new Utf8JsonReader(start, isWholeMessage, default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("type"u8);
                if (!reader.Read())
                {
                    return null;
                }
                if (isType)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                if (!reader.TrySkip())
                {
                    return null;
                }
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    /// <summary>True for the server events after which the response a <c>response.create</c> asked for is over.</summary>
    public static bool EndsResponse(string? type) =>
        type is "response.completed" or "response.incomplete" or "response.failed" or "error";

    /// <summary>Tokens from <c>response.usage.input_tokens</c> / <c>output_tokens</c> of a whole server event.</summary>
    public static TokenCounts Usage(ReadOnlySpan<byte> message)
    {
        try
        {
            var reader = new Utf8JsonReader(message);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object &&
                response.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                return new TokenCounts(Number(usage, "input_tokens"), Number(usage, "output_tokens"));
            }
        }
        catch (JsonException)
        {
        }
        return default;
    }

    private static long Number(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) && n > 0 ? n : 0;
}
