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
    /// <summary>The Docker engine (its --docker name) <see cref="ContainerId"/> runs on; null when no container is bound.</summary>
    public string? ContainerEngine { get; init; }

    /// <summary>Set by the Docker watcher: starting | running | failing | stopped; null without Docker.</summary>
    public string? ContainerState { get; init; }

    /// <summary>The repositories the workspace works on (minted tokens are scoped to them); null: none named.</summary>
    public IReadOnlyList<RepositoryGrant>? Repositories { get; init; }
}
