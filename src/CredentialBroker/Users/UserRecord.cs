using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Xares.Broker.Users;

/// <summary>A user as stored and as returned by the REST API.</summary>
internal sealed record UserRecord(string Id, string Name, string? Email, DateTimeOffset CreatedAt,
    [property: Description("The user's subject (\"sub\") at the web UI's OpenID Connect issuer; the web UI finds the user by it when it signs people in by subject.")]
    string? OidcSubject = null);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record CreateUserRequest(string? Name, string? Email,
    [property: Description("The user's subject (\"sub\") at the web UI's OpenID Connect issuer, at most 255 characters; unique among users.")]
    string? OidcSubject = null);

/// <summary>
/// PATCH /api/v1/users/{id}, with JSON merge-patch semantics (RFC 7396) as for workspaces: an
/// absent member leaves the field as it is; null removes email or oidcSubject (a user always has
/// a name). JsonElements keep absent (Undefined) and null apart; unknown members are refused.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record UpdateUserRequest(
    [property: Description("A new name (at most 200 characters); cannot be null.")] JsonElement Name,
    [property: Description("A new e-mail address; null removes it.")] JsonElement Email,
    [property: Description("The user's subject (\"sub\") at the web UI's OpenID Connect issuer, at most 255 characters and unique among users; null removes it.")]
    JsonElement OidcSubject);

/// <summary>One page, oldest first; <see cref="NextCursor"/> fetches the next (null on the last page).</summary>
internal sealed record UserList(IReadOnlyList<UserRecord> Items, string? NextCursor = null);
