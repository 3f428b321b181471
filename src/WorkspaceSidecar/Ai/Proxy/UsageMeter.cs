using System.Text.Json;

namespace Xares.Sidecar.Ai.Proxy;

/// <summary>Tokens a provider reported in a non-streamed JSON response.</summary>
internal readonly record struct TokenCounts(long Input, long Output);

/// <summary>
/// Reads token counts where the response reports them: OpenAI-style <c>usage.prompt_tokens</c> /
/// <c>completion_tokens</c> (also OpenRouter and Groq), Anthropic <c>usage.input_tokens</c> /
/// <c>output_tokens</c>, Gemini <c>usageMetadata.promptTokenCount</c> / <c>candidatesTokenCount</c>.
/// </summary>
internal static class UsageMeter
{
    /// <summary>Bodies larger than this are passed on but not parsed.</summary>
    public const int MaxParsedBytes = 1024 * 1024;

    public static bool ShouldParse(string? contentType, long? contentLength) =>
        contentType is not null &&
        contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) &&
        contentLength is null or <= MaxParsedBytes;

    public static TokenCounts Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return default;
            }
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                return new TokenCounts(
                    Number(usage, "prompt_tokens") + Number(usage, "input_tokens"),
                    Number(usage, "completion_tokens") + Number(usage, "output_tokens"));
            }
            if (root.TryGetProperty("usageMetadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
            {
                return new TokenCounts(Number(metadata, "promptTokenCount"), Number(metadata, "candidatesTokenCount"));
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
