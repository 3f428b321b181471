namespace Xares.Broker.Workspaces;

internal sealed record WorkspaceRecord(
    string Id,
    string UserId,
    string Name,
    IReadOnlyList<string>? AllowedHosts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt,
    string? ContainerId);
