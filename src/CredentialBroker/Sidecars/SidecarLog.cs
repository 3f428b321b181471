namespace Xares.Broker.Sidecars;

internal static partial class SidecarLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Session {SessionId} opened for workspace {WorkspaceId}")]
    public static partial void SessionOpened(ILogger logger, string workspaceId, string sessionId);
}
