using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>Runs retention (`--audit-retention-days`) at start and then hourly (<see cref="HourlyPass"/>), through the write queue.</summary>
internal sealed class AuditRetentionService(WriteQueue writes, AuditPruner pruner, BrokerOptions options, TimeProvider time,
    ILogger<AuditRetentionService> logger) : BackgroundService
{
    public Task<AuditPruneResult?> PruneAsync()
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(options.Audit.RetentionDays ?? throw new InvalidOperationException("Audit retention is off."));
        return writes.ExecuteAsync((c, t) => pruner.Prune(c, t, cutoff));
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Audit.RetentionDays is null
            ? Task.CompletedTask
            : HourlyPass.RunAsync(time, async _ =>
            {
                if (await PruneAsync() is { } pruned)
                {
                    AuditLog.Pruned(logger, pruned.FirstPruned, pruned.LastPruned, pruned.FirstRetained);
                }
            }, ex => AuditLog.JobFailed(logger, "retention", ex), stoppingToken);
}
