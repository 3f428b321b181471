using System.Collections.Concurrent;

namespace Xares.Broker.Storage;

/// <summary>
/// A background worker that runs one pass over its due rows, then waits for its interval or until
/// a commit wakes it (the outboxes and pollers of minted tokens and OAuth connections). A pass
/// that finds the database unavailable is logged and tried again at the next wake.
/// </summary>
internal abstract class WakeablePassWorker(TimeSpan interval) : BackgroundService
{
    private static readonly ConcurrentDictionary<WakeablePassWorker, byte> Running = new();
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Wakes every running worker of type <typeparamref name="TWorker"/>; called after a commit, so it never throws.</summary>
    protected static void WakeAll<TWorker>() where TWorker : WakeablePassWorker
    {
        foreach (var worker in Running.Keys.OfType<TWorker>())
        {
            try
            {
                worker._wake.Release();
            }
            catch (Exception ex) when (ex is SemaphoreFullException or ObjectDisposedException)
            {
                // Already woken, or stopping.
            }
        }
    }

    protected abstract Task RunPassAsync(CancellationToken cancellationToken);

    protected abstract void LogPassFailed(string exceptionType);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Running[this] = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RunPassAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is StorageUnavailableException or Audit.Devices.AuditDeviceUnavailableException or System.Data.Common.DbException)
                {
                    LogPassFailed(ex.GetType().Name);
                }
                await _wake.WaitAsync(interval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            Running.TryRemove(this, out _);
        }
    }

    public override void Dispose()
    {
        // Leave the set first, so a Wake after a commit never meets a disposed semaphore of ours.
        Running.TryRemove(this, out _);
        _wake.Dispose();
        base.Dispose();
    }
}
