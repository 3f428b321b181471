namespace Xares.Broker.Docker;

internal static partial class DockerLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Docker watcher of engine {Engine} connected to {Endpoint}; reconciling")]
    public static partial void Connected(ILogger logger, string engine, Uri endpoint);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Docker engine {Engine} unreachable ({Problem}); retrying in {DelayMs} ms")]
    public static partial void Unreachable(ILogger logger, string engine, string problem, long delayMs);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Reconciled with Docker engine {Engine}: {Containers} labelled containers, {Bootstrapped} bootstrapped, {Stopped} stopped, {Removed} removed")]
    public static partial void Reconciled(ILogger logger, string engine, int containers, int bootstrapped, int stopped, int removed);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Container {ContainerId} bootstrapped workspace {WorkspaceId} (attempt {Attempt})")]
    public static partial void Bootstrapped(ILogger logger, string containerId, string workspaceId, int attempt);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Bootstrap of container {ContainerId} (workspace {WorkspaceId}) attempt {Attempt} failed: {Problem}")]
    public static partial void DeliveryFailed(ILogger logger, string containerId, string workspaceId, int attempt, string problem);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "Container {ContainerId} refused: {Reason}")]
    public static partial void Refused(ILogger logger, string containerId, string reason);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "Container {ContainerId} {Change}: workspace {WorkspaceId} updated")]
    public static partial void ContainerChanged(ILogger logger, string containerId, string change, string workspaceId);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Information, Message = "Docker watcher of engine {Engine} on {Holder} waits: another replica holds its watcher lease")]
    public static partial void NotLeader(ILogger logger, string engine, string holder);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Error, Message = "Docker watcher failed handling {ContainerId}")]
    public static partial void HandlingFailed(ILogger logger, Exception exception, string containerId);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "Docker watcher of engine {Engine} lost its lease; stopping until it can take it again")]
    public static partial void LeaseLost(ILogger logger, string engine);
}
