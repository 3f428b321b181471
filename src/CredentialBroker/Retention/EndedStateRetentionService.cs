using Xares.Broker.Storage;

namespace Xares.Broker.Retention;

/// <summary>Runs <see cref="EndedStatePruner"/> at start and then hourly, on every replica (the deletes are idempotent).</summary>
internal sealed partial class EndedStateRetentionService(EndedStatePruner pruner, TimeProvider time, ILogger<EndedStateRetentionService> logger)
    : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        HourlyPass.RunAsync(time, async cancellationToken =>
        {
            var pruned = await pruner.PruneAsync(cancellationToken);
            if (pruned.Total > 0)
            {
                Pruned(logger, pruned.Leases, pruned.Sessions, pruned.BootstrapTokens, pruned.Revocations, pruned.AiRequestGrants);
            }
        }, ex => Failed(logger, ex), stoppingToken);

    [LoggerMessage(EventId = 6201, Level = LogLevel.Information,
        Message = "Retention deleted ended state: {Leases} leases, {Sessions} sessions, {BootstrapTokens} bootstrap tokens, {Revocations} revocation records, {AiRequestGrants} AI request grants")]
    private static partial void Pruned(ILogger logger, int leases, int sessions, int bootstrapTokens, int revocations, int aiRequestGrants);

    [LoggerMessage(EventId = 6202, Level = LogLevel.Error, Message = "Retention of ended state failed; it retries on its next run")]
    private static partial void Failed(ILogger logger, Exception exception);
}
