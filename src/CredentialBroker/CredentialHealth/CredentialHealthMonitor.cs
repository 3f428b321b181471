using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// Re-tests credentials in the background: each one every <see cref="BrokerOptions.CredentialTestInterval"/>,
/// a new secret soon after it is set, and one flagged by a git rejection at the next scan (rule g:
/// a flag schedules a re-test, never disables). Scans run every minute at most; only the replica
/// holding the "credential-health" leader lease tests, so providers see one tester per fleet.
/// </summary>
internal sealed class CredentialHealthMonitor(CredentialTester tester, Database database, LeaderLease lease, BrokerOptions options, TimeProvider time,
    ILogger<CredentialHealthMonitor> logger) : BackgroundService
{
    private const int BatchSize = 20;
    private static readonly TimeSpan MaxScanPeriod = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = options.CredentialTestInterval < MaxScanPeriod ? options.CredentialTestInterval : MaxScanPeriod;
        try
        {
            await Task.Delay(options.CredentialTestStartDelay, time, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var tested = await RunPassAsync(stoppingToken);
                    if (tested > 0)
                    {
                        CredentialHealthLog.Pass(logger, tested);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    CredentialHealthLog.PassFailed(logger, ex.GetType().Name);
                }
                await Task.Delay(period, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        try
        {
            await lease.ReleaseAsync();
        }
        catch (Exception ex) when (ex is StorageUnavailableException or Audit.Devices.AuditDeviceUnavailableException or ObjectDisposedException)
        {
            // The lease simply expires.
        }
    }

    /// <summary>Tests every credential that is due, while this replica holds the lease; returns how many it tested.</summary>
    public async Task<int> RunPassAsync(CancellationToken cancellationToken)
    {
        var tested = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var due = await database.ReadAsync(c => CredentialHealthStore.Due(c, time.GetUtcNow() - options.CredentialTestInterval, BatchSize));
            var fresh = due.Where(tested.Add).ToList();
            if (fresh.Count == 0)
            {
                return tested.Count; // nothing due, or only what a race kept from being recorded
            }
            foreach (var id in fresh)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Renewed before every test, so a slow provider cannot outlast the lease.
                if (!await lease.TryAcquireAsync())
                {
                    CredentialHealthLog.NotLeader(logger, lease.Holder);
                    return tested.Count - fresh.Count + fresh.IndexOf(id);
                }
                await tester.TestAsync(id, null, CredentialTester.TriggerSchedule, null, cancellationToken);
            }
        }
    }
}
