using Xares.Broker.Hosting;

namespace Xares.Broker.Storage;

/// <summary>
/// The schedule of the retention jobs: a pass at start, then one every hour until the host
/// stops. A pass the database refused (down, locked) is reported and tried again at the next hour.
/// </summary>
internal static class HourlyPass
{
    private static readonly TimeSpan Period = TimeSpan.FromHours(1);

    public static async Task RunAsync(TimeProvider time, Func<CancellationToken, Task> pass, Action<Exception> failed, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            do
            {
                try
                {
                    await pass(stoppingToken);
                }
                catch (Exception ex) when (ex is StorageUnavailableException or Audit.Devices.AuditDeviceUnavailableException or System.Data.Common.DbException)
                {
                    failed(ex);
                }
            }
            while (await timer.NextAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
