namespace Xares.Broker.Sessions;

/// <summary>A workspace's live sidecar session; <see cref="LastSeenAt"/>: its latest token refresh or lease.</summary>
internal sealed record LiveSession(string WorkspaceId, string Id, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, string? RemoteAddress,
    DateTimeOffset LastSeenAt);
