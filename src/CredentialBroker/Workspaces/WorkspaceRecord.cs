namespace Xares.Broker.Workspaces;

internal sealed record WorkspaceRecord(
    string Id,
    string UserId,
    string Name,
    IReadOnlyList<string>? AllowedHosts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt,
    string? ContainerId)
{
    /// <summary>Set by the Docker watcher: starting | running | failing | stopped; null without Docker.</summary>
    public string? ContainerState { get; init; }
}
