namespace Xares.Broker.Api;

/// <summary>
/// The operationId and tag of a REST operation, derived from its method and route so every endpoint
/// gets stable ones without annotations: GET /users → listUsers, GET /users/{id} → getUser,
/// POST /users/{userId}/credentials → createUserCredential, POST /api-keys/{id}/rotate → rotateApiKey.
/// The tag is the resource the route is about (Credentials for /users/{userId}/credentials).
/// </summary>
internal static class OpenApiOperationNames
{
    // Route segments that name a collection, with the tag of their operations. Any other literal
    // at the end of a route is an action on what precedes it (…/{id}/rotate, /audit/verify).
    private static readonly Dictionary<string, string> Collections = new(StringComparer.Ordinal)
    {
        ["users"] = "Users", ["credentials"] = "Credentials", ["workspaces"] = "Workspaces", ["leases"] = "Leases",
        ["api-keys"] = "API keys", ["audit"] = "Audit", ["flags"] = "Audit", ["github-apps"] = "GitHub Apps",
        ["installations"] = "GitHub Apps", ["oauth-providers"] = "OAuth providers", ["connections"] = "OAuth connections",
    };

    // Words whose usual spelling is not plain capitalisation.
    private static readonly Dictionary<string, string> Spellings = new(StringComparer.Ordinal) { ["github"] = "GitHub", ["oauth"] = "OAuth" };

    /// <summary>The tag of operations outside the collections (health and readiness probes).</summary>
    public const string ServiceTag = "Service";

    private static readonly Dictionary<string, string> Probes = new(StringComparer.Ordinal) { ["healthz"] = "getHealth", ["readyz"] = "getReadiness" };

    public static (string OperationId, string Tag) Of(string method, string route)
    {
        var segments = route.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is [var only] && Probes.TryGetValue(only, out var probe))
        {
            return (probe, ServiceTag);
        }
        var start = segments is ["api", ['v', ..], ..] ? 2 : 0;
        var nouns = new List<string>();
        string? action = null;
        string? tag = null;
        var endsWithId = false;
        for (var i = start; i < segments.Length; i++)
        {
            var segment = segments[i];
            endsWithId = segment.StartsWith('{');
            if (endsWithId)
            {
                Singularize(nouns);
            }
            else if (Collections.TryGetValue(segment, out var collectionTag))
            {
                nouns.Add(Pascal(segment));
                tag = collectionTag;
            }
            else if (i == segments.Length - 1)
            {
                action = Pascal(segment);
            }
            else
            {
                nouns.Add(Pascal(segment));
            }
        }
        var verb = action ?? (method.ToUpperInvariant(), endsWithId) switch
        {
            ("GET", true) => "Get",
            ("GET", false) => "List",
            ("POST", _) => "Create",
            ("PUT", _) => "Replace",
            ("PATCH", _) => "Update",
            ("DELETE", _) => "Delete",
            _ => Pascal(method.ToLowerInvariant()),
        };
        if (verb == "Create" && !endsWithId)
        {
            Singularize(nouns);
        }
        var id = verb + string.Concat(nouns);
        return (char.ToLowerInvariant(id[0]) + id[1..], tag ?? ServiceTag);
    }

    /// <summary>True for a POST that creates a resource in a collection (not an action such as …/rotate).</summary>
    public static bool IsCreate(string method, string route) =>
        string.Equals(method, "POST", StringComparison.OrdinalIgnoreCase)
        && route.Split('/', StringSplitOptions.RemoveEmptyEntries) is [.., var last] && Collections.ContainsKey(last);

    /// <summary>True for a route that names one resource (ends with its id).</summary>
    public static bool IsSingle(string route) => route.TrimEnd('/').EndsWith('}');

    private static void Singularize(List<string> nouns)
    {
        if (nouns is [.., var last] && last.EndsWith('s'))
        {
            nouns[^1] = last[..^1];
        }
    }

    private static string Pascal(string segment) => string.Concat(segment.Split('-', StringSplitOptions.RemoveEmptyEntries)
        .Select(w => Spellings.TryGetValue(w, out var spelled) ? spelled : char.ToUpperInvariant(w[0]) + w[1..]));
}
