using System.Text;
using System.Text.Json;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>The JSON line a node SDK script (tests/EndToEnd.Tests/node) prints about itself.</summary>
internal sealed class AiNodeReport(JsonElement json)
{
    public static AiNodeReport Parse(CommandResult result) => Parse(result.Stdout, result.ToString());

    public static AiNodeReport Parse(string stdout, string context)
    {
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        Assert.True(line is not null, "The node script printed no report:\n" + context);
        return new AiNodeReport(JsonDocument.Parse(line!).RootElement.Clone());
    }

    public string? ApiKey => String("apiKey");

    public string? BaseUrl => String("baseUrl");

    /// <summary>The script's own /proc/self/environ, as the kernel shows it to anyone allowed to look.</summary>
    public string Environ => Encoding.UTF8.GetString(Convert.FromBase64String(String("environ")!));

    public string? Content => String("content");

    public JsonElement? Error => json.TryGetProperty("error", out var error) ? error : null;

    /// <summary>Streamed chunks: ms since the request, the Unix time in ms of arrival, the text.</summary>
    public IReadOnlyList<(long Ms, long At, string Text)> Chunks =>
        [.. json.GetProperty("chunks").EnumerateArray().Select(c => (c.GetProperty("ms").GetInt64(), c.GetProperty("at").GetInt64(), c.GetProperty("text").GetString() ?? ""))];

    public IReadOnlyList<int> Statuses => [.. json.GetProperty("statuses").EnumerateArray().Select(s => s.GetInt32())];

    public string? String(string name) => json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public JsonElement Raw => json;

    public override string ToString() => json.GetRawText();
}
