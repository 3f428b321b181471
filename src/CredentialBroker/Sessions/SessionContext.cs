namespace Xares.Broker.Sessions;

/// <summary>An authenticated sidecar session: which workspace, whose, and until when.</summary>
internal sealed record SessionContext(
    string SessionId,
    string WorkspaceId,
    string UserId,
    IReadOnlyList<string>? AllowedHosts,
    DateTimeOffset SessionExpiresAt,
    DateTimeOffset TokenExpiresAt);

internal enum SessionCheck
{
    Valid,
    Unknown,
    Expired,
    Revoked,
    /// <summary>A token already rotated away was presented again: stolen, or a confused client (rule d).</summary>
    Replayed,
}

internal sealed record SessionLookup(SessionCheck Check, SessionContext? Session);
