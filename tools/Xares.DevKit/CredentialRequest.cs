namespace Xares.DevKit;

/// <summary>git's credential protocol, spoken directly to the published helper.</summary>
internal static class CredentialRequest
{
    /// <summary>The helper's input: key=value lines and a blank line; null values are left out.</summary>
    public static string Format(string protocol, string host, string? path = null, string? username = null) =>
        string.Concat(
            new[] { ("protocol", protocol), ("host", host), ("path", path), ("username", username) }
                .Where(p => p.Item2 is not null)
                .Select(p => $"{p.Item1}={p.Item2}\n")) + "\n";

    /// <summary>The helper's answer as a dictionary (last value wins).</summary>
    public static Dictionary<string, string> Parse(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .GroupBy(parts => parts[0])
            .ToDictionary(g => g.Key, g => g.Last()[1]);

    /// <summary><c>host:port</c> of a base URL such as <c>http://127.0.0.1:41234</c>.</summary>
    public static string HostOf(string baseUrl) => new Uri(baseUrl).Authority;
}
