using System.Text.Json;
using Xares.Broker.Api;
using Xares.Broker.Credentials;
using Xares.Broker.Credentials.Matching;

namespace Xares.Broker.Workspaces;

/// <summary>The rules a workspace's fields follow, the same on create and on PATCH.</summary>
internal static class WorkspaceInput
{
    public const int MaxNameLength = 200;

    /// <summary>A trimmed name, or null (with an error) when it is missing, blank or too long.</summary>
    public static string? Name(FieldErrors errors, string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength)
        {
            errors.Add("name", $"name is required (at most {MaxNameLength} characters).");
            return null;
        }
        return name.Trim();
    }

    /// <summary>An allow-list as given (null: every host), or an error naming the first bad pattern by position.</summary>
    public static void AllowedHosts(FieldErrors errors, IReadOnlyList<string>? allowedHosts)
    {
        if (allowedHosts is not null && !HostAllowList.TryParse(allowedHosts, out _, out var error))
        {
            errors.Add("allowedHosts", error);
        }
    }

    /// <summary>Validates a PATCH body; an empty one (no member) is refused, since it would change nothing.</summary>
    public static WorkspacePatch ForUpdate(UpdateWorkspaceRequest body)
    {
        if (body.Name.ValueKind == JsonValueKind.Undefined && body.AllowedHosts.ValueKind == JsonValueKind.Undefined
            && body.Repositories.ValueKind == JsonValueKind.Undefined)
        {
            throw new ValidationException("The patch is empty: give name, allowedHosts, repositories or several of them.");
        }
        var errors = new FieldErrors();
        string? name = null;
        switch (body.Name.ValueKind)
        {
            case JsonValueKind.Undefined:
                break;
            case JsonValueKind.String when JsonText.Of(body.Name) is { } text:
                name = Name(errors, text);
                break;
            default:
                errors.Add("name", "name must be a string; a workspace always has one, so it cannot be removed with null.");
                break;
        }
        var (hostsChanged, hosts) = AllowedHostsChange(errors, body.AllowedHosts);
        var (repositoriesChanged, repositories) = RepositoriesChange(errors, body.Repositories);
        errors.ThrowIfAny();
        return new WorkspacePatch(name, hostsChanged, hosts, repositoriesChanged, repositories);
    }

    /// <summary>A repositories member: absent leaves them (<c>Changed</c> false), null removes them, an array replaces them.</summary>
    public static (bool Changed, IReadOnlyList<RepositoryGrant>? Value) RepositoriesChange(FieldErrors errors, JsonElement member) =>
        member.ValueKind switch
        {
            JsonValueKind.Undefined => (false, null),
            JsonValueKind.Null => (true, null),
            _ => (true, RepositoryGrant.Parse(errors, member)),
        };

    /// <summary>
    /// PATCH's allowedHosts member: absent leaves the list as it is (<c>Changed</c> false); null
    /// removes it (every host the owner has credentials for); an array of strings replaces it.
    /// </summary>
    public static (bool Changed, IReadOnlyList<string>? Value) AllowedHostsChange(FieldErrors errors, JsonElement member)
    {
        switch (member.ValueKind)
        {
            case JsonValueKind.Undefined:
                return (false, null);
            case JsonValueKind.Null:
                return (true, null);
            case JsonValueKind.Array when member.EnumerateArray().All(e => JsonText.Of(e) is not null):
                var hosts = member.EnumerateArray().Select(e => JsonText.Of(e)!).ToList();
                AllowedHosts(errors, hosts);
                return (true, hosts);
            default:
                errors.Add("allowedHosts", "allowedHosts must be an array of host[:port] or *.domain patterns, or null for every host.");
                return (false, null);
        }
    }
}
