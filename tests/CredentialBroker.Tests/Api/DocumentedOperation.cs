using System.Text.Json;
using System.Text.RegularExpressions;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Api;

/// <summary>
/// One REST operation as /openapi/v1.json documents it: method, path template, the scope its
/// bearer requirement names, and its query parameters. Tests generated from the document use it,
/// so a new endpoint is covered as soon as it is documented.
/// </summary>
internal sealed partial record DocumentedOperation(string Method, string Template, string Scope, IReadOnlyList<string> QueryParameters)
{
    public string Name => $"{Method} {Template}";

    public bool HasBody => Method is "POST" or "PUT" or "PATCH";

    /// <summary>The path with each parameter replaced by <paramref name="id"/> of the template before it.</summary>
    public string Fill(Func<string, string> id) => Parameter().Replace(Template, m => id(Template[..m.Index]));

    public override string ToString() => Name;

    /// <summary>Every /api/ operation of the broker's document.</summary>
    public static async Task<List<DocumentedOperation>> ReadAsync(BrokerTestHost host)
    {
        using var anonymous = host.CreateClient(null);
        using var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));
        return [.. document.RootElement.GetProperty("paths").EnumerateObject()
            .Where(p => p.Name.StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(p => p.Value.EnumerateObject()
                .Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete")
                .Select(o => new DocumentedOperation(o.Name.ToUpperInvariant(), p.Name.TrimEnd('/'), ScopeOf(o.Value), QueryParametersOf(o.Value))))];
    }

    private static string ScopeOf(JsonElement operation) =>
        operation.TryGetProperty("security", out var security)
            ? security.EnumerateArray().SelectMany(r => r.EnumerateObject()).SelectMany(s => s.Value.EnumerateArray()).Select(s => s.GetString()!).Single()
            : "(none documented)";

    private static List<string> QueryParametersOf(JsonElement operation) =>
        operation.TryGetProperty("parameters", out var parameters)
            ? [.. parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()!)]
            : [];

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex Parameter();
}
