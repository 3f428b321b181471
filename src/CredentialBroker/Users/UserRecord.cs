using System.Text.Json.Serialization;

namespace Xares.Broker.Users;

/// <summary>A user as stored and as returned by the REST API.</summary>
internal sealed record UserRecord(string Id, string Name, string? Email, DateTimeOffset CreatedAt);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record CreateUserRequest(string? Name, string? Email);

internal sealed record UserList(IReadOnlyList<UserRecord> Items);
