using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Xares.Broker.Workspaces;

/// <summary>
/// PATCH /api/v1/workspaces/{id}, with JSON merge-patch semantics (RFC 7396) as for credentials:
/// an absent member leaves the field as it is. A workspace always has a name, so name cannot be
/// null; allowedHosts null removes the list (every host the owner has credentials for). Both are
/// JsonElements so that absent (ValueKind Undefined) and null stay distinguishable. Unknown
/// members are refused, so a misspelt "allowedHost" does not silently leave the policy as it was.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record UpdateWorkspaceRequest(
    [property: Description("A new name (at most 200 characters); cannot be null.")] JsonElement Name,
    [property: Description("host[:port] or *.domain patterns replacing the list; null allows every host. Narrowing it revokes the workspace's leases for hosts it no longer allows.")]
    JsonElement AllowedHosts,
    [property: Description("[{host, name: \"owner/repo\", access: \"read\"|\"write\"}] replacing the list; null names none. Narrowing it revokes the minted tokens (and their leases) it no longer covers.")]
    JsonElement Repositories);

/// <summary>A validated PATCH: what changes (null name: unchanged).</summary>
internal sealed record WorkspacePatch(string? Name, bool AllowedHostsChanged, IReadOnlyList<string>? AllowedHosts,
    bool RepositoriesChanged = false, IReadOnlyList<RepositoryGrant>? Repositories = null);
