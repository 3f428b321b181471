using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>Runs the flag detector every `--audit-flag-interval` seconds until it has caught up with the log.</summary>
internal sealed class AuditFlagScanner(WriteQueue writes, AuditFlagDetector detector, BrokerOptions options, TimeProvider time,
    ILogger<AuditFlagScanner> logger) : BackgroundService
{
    /// <summary>Examines every record written so far; the flags raised.</summary>
    public async Task<IReadOnlyList<AuditFlag>> ScanAsync()
    {
        var raised = new List<AuditFlag>();
        AuditScan scan;
        do
        {
            scan = await writes.ExecuteAsync(detector.Scan);
            raised.AddRange(scan.Raised);
        }
        while (scan.More);
        foreach (var flag in raised)
        {
            AuditLog.Flagged(logger, flag.Kind, flag.Id);
        }
        return raised;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Audit.Flags.ScanInterval <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.Audit.Flags.ScanInterval, time);
        try
        {
            while (await timer.NextAsync(stoppingToken))
            {
                try
                {
                    await ScanAsync();
                }
                catch (Exception ex) when (ex is StorageUnavailableException or Audit.Devices.AuditDeviceUnavailableException or System.Data.Common.DbException)
                {
                    AuditLog.JobFailed(logger, "flags", ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
