using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Xares.Broker.Api;
using Xares.Broker.Credentials;
using Xares.GitTargets;

namespace Xares.Broker.Workspaces;

/// <summary>
/// A repository a workspace works on: its git host (host[:port], as git sends it), its name
/// "owner/repo" and the access minted tokens get ("read" or "write"). Hosts are stored canonical
/// (lowercase ASCII); names keep their case and compare case-insensitively, as GitHub does.
/// </summary>
internal sealed partial record RepositoryGrant(string Host, string Name, string Access)
{
    public const string Read = "read";
    public const string Write = "write";
    public const int MaxCount = 500;

    [JsonIgnore]
    public string Owner => Name[..Name.IndexOf('/', StringComparison.Ordinal)];

    [JsonIgnore]
    public string Repository => Name[(Name.IndexOf('/', StringComparison.Ordinal) + 1)..];

    /// <summary>True when this grant names the repository git asked for on that host and port (the scheme's default port when the grant gives none).</summary>
    public bool Covers(string scheme, string host, int port, string owner, string repository) =>
        SameHost(scheme, host, port) && string.Equals(Owner, owner, StringComparison.OrdinalIgnoreCase)
        && string.Equals(Repository, repository, StringComparison.OrdinalIgnoreCase);

    public bool SameHost(string scheme, string host, int port) =>
        HostPort.TryParse(Host, out var grantHost, out var grantPort, out _)
        && string.Equals(grantHost, host, StringComparison.Ordinal) && (grantPort ?? GitScheme.DefaultPort(scheme)) == port;

    /// <summary>The owner and repository of a git request path "owner/repo[.git]"; false for anything else.</summary>
    public static bool TryReadPath(IReadOnlyList<string> segments, out string owner, out string repository)
    {
        owner = repository = "";
        if (segments.Count != 2)
        {
            return false;
        }
        owner = segments[0];
        repository = segments[1].EndsWith(".git", StringComparison.OrdinalIgnoreCase) ? segments[1][..^4] : segments[1];
        return NamePart().IsMatch(owner) && NamePart().IsMatch(repository);
    }

    public static string Serialize(IReadOnlyList<RepositoryGrant>? grants) =>
        JsonSerializer.Serialize(grants?.Select(g => new Stored(g.Host, g.Name, g.Access)));

    public static IReadOnlyList<RepositoryGrant>? Deserialize(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<Stored[]>(json)?.Select(s => new RepositoryGrant(s.Host, s.Name, s.Access)).ToList();

    /// <summary>
    /// Validates a list as given in REST (create or PATCH): each {host, name: "owner/repo", access}.
    /// Returns the canonical list, or null with errors naming the entry by position.
    /// </summary>
    public static IReadOnlyList<RepositoryGrant>? Parse(FieldErrors errors, JsonElement list)
    {
        if (list.ValueKind != JsonValueKind.Array)
        {
            errors.Add("repositories", "repositories must be an array of {host, name: \"owner/repo\", access: \"read\"|\"write\"}, or null for none.");
            return null;
        }
        if (list.GetArrayLength() > MaxCount)
        {
            errors.Add("repositories", $"repositories may name at most {MaxCount} repositories.");
            return null;
        }
        var grants = new List<RepositoryGrant>();
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var field = $"repositories[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add(field, "each repository must be an object {host, name, access}.");
                continue;
            }
            var host = Member(item, "host");
            var name = Member(item, "name");
            var access = Member(item, "access") ?? Read;
            if (item.EnumerateObject().Any(p => p.Name is not ("host" or "name" or "access")))
            {
                errors.Add(field, "only host, name and access are allowed.");
            }
            if (host is null || !HostPort.TryParse(host, out var canonicalHost, out var port, out _))
            {
                errors.Add(field + ".host", "host is required: the git host as host or host:port (e.g. github.com).");
                continue;
            }
            var parts = name?.Split('/');
            if (parts is not { Length: 2 } || !NamePart().IsMatch(parts[0]) || !NamePart().IsMatch(parts[1]) || parts[1].EndsWith(".git", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(field + ".name", "name must be \"owner/repo\" (letters, digits, '.', '-' and '_'; without .git).");
                continue;
            }
            if (access is not (Read or Write))
            {
                errors.Add(field + ".access", "access must be \"read\" or \"write\".");
                continue;
            }
            var grant = new RepositoryGrant(port is null ? canonicalHost : $"{canonicalHost}:{port}", name!, access);
            if (grants.Any(g => g.Host == grant.Host && string.Equals(g.Name, grant.Name, StringComparison.OrdinalIgnoreCase)))
            {
                errors.Add(field, "each repository may be named once.");
                continue;
            }
            grants.Add(grant);
        }
        return grants;
    }

    private static string? Member(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) ? JsonText.Of(value) : null;

    // GitHub's owner and repository names; "." and ".." are not names.
    [GeneratedRegex("^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex NamePart();

    private sealed record Stored(string Host, string Name, string Access);
}
