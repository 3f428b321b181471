namespace Xares.Broker.Connections;

internal static partial class ConnectionLog
{
    [LoggerMessage(EventId = 1800, Level = LogLevel.Information, Message = "Connection {ConnectionId} is active (provider {ProviderId})")]
    public static partial void Connected(ILogger logger, string connectionId, string providerId);

    [LoggerMessage(EventId = 1801, Level = LogLevel.Information, Message = "Device grant of {ConnectionId} ended: {Status} ({Reason})")]
    public static partial void DeviceEnded(ILogger logger, string connectionId, string status, string reason);

    [LoggerMessage(EventId = 1802, Level = LogLevel.Information, Message = "Refreshed {ConnectionId} to token version {Version}, access token expires {ExpiresAt}")]
    public static partial void Refreshed(ILogger logger, string connectionId, long version, DateTimeOffset? expiresAt);

    [LoggerMessage(EventId = 1803, Level = LogLevel.Warning, Message = "Refreshing {ConnectionId} failed (attempt {Attempt}): {Reason}")]
    public static partial void RefreshFailed(ILogger logger, string connectionId, int attempt, string reason);

    [LoggerMessage(EventId = 1804, Level = LogLevel.Warning, Message = "Connection {ConnectionId} needs reconnecting: {Reason}")]
    public static partial void ReconnectRequired(ILogger logger, string connectionId, string reason);

    [LoggerMessage(EventId = 1805, Level = LogLevel.Warning, Message = "The new access token of {ConnectionId} failed its check ({Reason}); the stored pair is kept")]
    public static partial void ValidationFailed(ILogger logger, string connectionId, string reason);

    [LoggerMessage(EventId = 1806, Level = LogLevel.Warning, Message = "Revoking a token of {ConnectionId} upstream failed (attempt {Attempt}): {Reason}")]
    public static partial void UpstreamRevokeFailed(ILogger logger, string connectionId, int attempt, string reason);

    [LoggerMessage(EventId = 1807, Level = LogLevel.Error, Message = "A connection background pass failed: {Reason}")]
    public static partial void PassFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1808, Level = LogLevel.Warning, Message = "A connection callback was refused for user {UserId}: {Reason}")]
    public static partial void CallbackRefused(ILogger logger, string userId, string reason);

    [LoggerMessage(EventId = 1809, Level = LogLevel.Information, Message = "Connection {ConnectionId} is active through the browser redirect grant (provider {ProviderId})")]
    public static partial void ConnectedByRedirect(ILogger logger, string connectionId, string providerId);
}
