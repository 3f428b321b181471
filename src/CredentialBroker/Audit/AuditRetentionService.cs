using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>Runs retention (`--audit-retention-days`) at start and then hourly, through the write queue.</summary>
internal sealed class AuditRetentionService(WriteQueue writes, AuditPruner pruner, BrokerOptions options, TimeProvider time,
    ILogger<AuditRetentionService> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromHours(1);

    public Task<AuditPruneResult?> PruneAsync()
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(options.Audit.RetentionDays ?? throw new InvalidOperationException("Audit retention is off."));
        return writes.ExecuteAsync((c, t) => pruner.Prune(c, t, cutoff));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Audit.RetentionDays is null)
        {
            return;
        }
        using var timer = new PeriodicTimer(Period, time);
        do
        {
            try
            {
                if (await PruneAsync() is { } pruned)
                {
                    AuditLog.Pruned(logger, pruned.FirstPruned, pruned.LastPruned, pruned.FirstRetained);
                }
            }
            catch (Exception ex) when (ex is StorageUnavailableException or System.Data.Common.DbException)
            {
                AuditLog.JobFailed(logger, "retention", ex);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
