namespace Xares.Broker.Audit.Devices;

/// <summary>
/// Feeds an optional audit device from a background task, after the records committed, so a slow
/// or absent device never holds up a write. While the device fails, records wait in memory (at
/// most <see cref="MaxBacklog"/>, oldest dropped first, counted and logged) and go out in order
/// once it takes writes again; records still waiting when the broker stops are lost (counted).
/// </summary>
internal sealed partial class AuditDeviceForwarder : IAsyncDisposable
{
    public const int MaxBacklog = 10_000;
    private const int MaxWrite = 500;

    private readonly AuditDevice _device;
    private readonly ILogger _logger;
    private readonly LinkedList<AuditDeviceLine> _backlog = new();
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public AuditDeviceForwarder(AuditDevice device, ILogger logger)
    {
        _device = device;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    public AuditDevice Device => _device;

    /// <summary>Queues committed records for the device.</summary>
    public void Post(IReadOnlyList<AuditDeviceLine> lines)
    {
        lock (_backlog)
        {
            foreach (var line in lines)
            {
                _backlog.AddLast(line);
            }
            DropOverflow();
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
    }

    private async Task RunAsync()
    {
        try
        {
            while (true)
            {
                await _signal.WaitAsync(_stop.Token);
                while (Take() is { Count: > 0 } lines)
                {
                    if (!TryWrite(lines))
                    {
                        await Task.Delay(AuditDevice.Backoff, _stop.Token);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Writes the lines, or puts them back at the front of the backlog.</summary>
    private bool TryWrite(List<AuditDeviceLine> lines)
    {
        try
        {
            _device.Write(lines);
            return true;
        }
        catch (IOException)
        {
            lock (_backlog)
            {
                for (var i = lines.Count - 1; i >= 0; i--)
                {
                    _backlog.AddFirst(lines[i]);
                }
                DropOverflow();
            }
            return false;
        }
    }

    private List<AuditDeviceLine> Take()
    {
        lock (_backlog)
        {
            var lines = new List<AuditDeviceLine>(Math.Min(_backlog.Count, MaxWrite));
            while (lines.Count < MaxWrite && _backlog.First is { } first)
            {
                lines.Add(first.Value);
                _backlog.RemoveFirst();
            }
            AuditDeviceMetrics.Backlog.WithLabels(_device.Address.Name).Set(_backlog.Count);
            return lines;
        }
    }

    // Called under the lock.
    private void DropOverflow()
    {
        if (_backlog.Count > MaxBacklog)
        {
            var dropped = _backlog.Count - MaxBacklog;
            var first = _backlog.First!.Value.Sequence;
            for (var i = 0; i < dropped; i++)
            {
                _backlog.RemoveFirst();
            }
            AuditDeviceMetrics.Dropped.WithLabels(_device.Address.Name).Inc(dropped);
            LogDropped(_logger, _device.Address.Name, dropped, first, MaxBacklog);
        }
        AuditDeviceMetrics.Backlog.WithLabels(_device.Address.Name).Set(_backlog.Count);
    }

    /// <summary>Stops the loop, makes one last attempt at what is waiting, and closes the device.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        var waiting = Take();
        if (waiting.Count > 0 && !TryWrite(waiting))
        {
            AuditDeviceMetrics.Dropped.WithLabels(_device.Address.Name).Inc(waiting.Count);
            LogLostAtStop(_logger, _device.Address.Name, waiting.Count, waiting[0].Sequence);
        }
        _device.Dispose();
        _stop.Dispose();
        _signal.Dispose();
    }

    [LoggerMessage(EventId = 6111, Level = LogLevel.Error,
        Message = "The optional audit device {Device} fell {Dropped} record(s) behind its backlog of {Max}: records from {FirstSequence} on were dropped for it (GET /api/v1/audit/export has them)")]
    private static partial void LogDropped(ILogger logger, string device, int dropped, long firstSequence, int max);

    [LoggerMessage(EventId = 6112, Level = LogLevel.Error,
        Message = "The optional audit device {Device} did not take {Count} record(s) from {FirstSequence} on before the broker stopped (GET /api/v1/audit/export has them)")]
    private static partial void LogLostAtStop(ILogger logger, string device, int count, long firstSequence);
}
