namespace Xares.Broker.Audit;

internal static partial class AuditLog
{
    [LoggerMessage(EventId = 6101, Level = LogLevel.Error, Message = "Could not write an audit checkpoint to {Path}")]
    public static partial void CheckpointFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Critical, Message = "The audit head at record {Sequence} does not verify; no checkpoint written. Run `xares-broker audit verify`")]
    public static partial void CheckpointSkipped(ILogger logger, long sequence);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Information, Message = "Audit retention pruned records {FirstPruned} to {LastPruned}; the chain continues at {FirstRetained}")]
    public static partial void Pruned(ILogger logger, long firstPruned, long lastPruned, long firstRetained);

    [LoggerMessage(EventId = 6104, Level = LogLevel.Error, Message = "Audit background job {Job} failed; it retries on its next run")]
    public static partial void JobFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(EventId = 6105, Level = LogLevel.Warning, Message = "Suspicious activity flagged: {Kind} ({FlagId})")]
    public static partial void Flagged(ILogger logger, string kind, string flagId);
}
