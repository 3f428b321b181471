using System.Text.Json.Serialization;

namespace Xares.Broker.Users;

/// <summary>A user as stored and as returned by the REST API.</summary>
internal sealed record UserRecord(string Id, string Name, string? Email, DateTimeOffset CreatedAt);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record CreateUserRequest(string? Name, string? Email);

/// <summary>One page, oldest first; <see cref="NextCursor"/> fetches the next (null on the last page).</summary>
internal sealed record UserList(IReadOnlyList<UserRecord> Items, string? NextCursor = null);
