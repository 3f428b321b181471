using System.Text.Json;
using System.Text.RegularExpressions;
using Xares.DevKit;

namespace Xares.Demo;

/// <summary>How the steps show what they do: commands with their output, REST calls with their answers.</summary>
internal sealed partial class DemoScript
{
    private static readonly JsonSerializerOptions RequestJson = new(Narrator.Display) { WriteIndented = false };

    /// <summary>Shows a command and what it printed; throws when it failed.</summary>
    private CommandResult Expect(CommandResult result)
    {
        Show(result);
        return result.Succeeded
            ? result
            : throw new DemoException($"`{Display(result.Command)}` failed (exit {result.ExitCode}{(result.TimedOut ? ", timed out" : "")}).");
    }

    private void Show(CommandResult result)
    {
        narrator.Command(Display(result.Command));
        narrator.Output(result.Stdout);
        narrator.Output(result.Stderr);
        if (!result.Succeeded)
        {
            narrator.Say($"(exit code {result.ExitCode}{(result.TimedOut ? ", killed after timing out" : "")})");
        }
    }

    /// <summary>The published sidecar and helper are on the workspace's PATH, so they are shown by name.</summary>
    private static string Display(string command) =>
        command.Replace(Artifacts.NativeDirectory + "/", "", StringComparison.Ordinal);

    /// <summary>
    /// One REST call, narrated: method, URL and body (secrets masked), then the status and the JSON
    /// answer. <paramref name="secretFields"/> name response members to protect before printing.
    /// </summary>
    private async Task<JsonElement> CallAsync(HttpMethod method, string path, object? body = null, IReadOnlyList<string>? secretFields = null, bool printBody = true)
    {
        narrator.Command($"{method} {Broker.RestUrl}/{path}{(body is null ? "" : " " + JsonSerializer.Serialize(body, RequestJson))}");
        var reply = await Admin.ExchangeAsync(method, path, body);
        foreach (var field in secretFields ?? [])
        {
            if (reply.Body.ValueKind == JsonValueKind.Object && reply.Body.TryGetProperty(field, out var value) && value.GetString() is { Length: > 0 } secret)
            {
                narrator.Protect(secret);
            }
        }

        narrator.Say($"→ {(int)reply.Status} {StatusWords().Replace(reply.Status.ToString(), " $1")}");
        if (printBody && reply.Body.ValueKind != JsonValueKind.Undefined)
        {
            narrator.Json(reply.Body);
        }

        return reply.Body;
    }

    // NoContent → No Content
    [GeneratedRegex("(?<=[a-z])([A-Z])")]
    private static partial Regex StatusWords();

    private static string Octal(string path) => "0" + Convert.ToString((int)File.GetUnixFileMode(path), 8);
}
