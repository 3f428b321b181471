using System.Net.Sockets;

namespace Xares.Broker.Audit.Devices;

/// <summary>One audit record as a device receives it: its export line (JSON, MAC and key version included).</summary>
internal sealed record AuditDeviceLine(long Sequence, DateTimeOffset At, string Outcome, string Json);

/// <summary>
/// A destination outside the database that audit records are appended to (a file, a syslog
/// socket). Writes are serialised; a write that fails closes the device, which refuses at once for
/// <see cref="Backoff"/> and then opens afresh, so a dead endpoint never costs more than one
/// timeout a second on the write path.
/// </summary>
internal abstract partial class AuditDevice(AuditDeviceAddress address, TimeProvider time, ILogger logger) : IDisposable
{
    public static readonly TimeSpan Backoff = TimeSpan.FromSeconds(1);

    /// <summary>How long connecting to or sending to a socket may take before the write counts as failed.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;

    public AuditDeviceAddress Address => address;

    /// <summary>When a write last failed (<see cref="DateTimeOffset.MinValue"/>: never).</summary>
    public DateTimeOffset LastFailure { get; private set; } = DateTimeOffset.MinValue;

    public static AuditDevice Create(AuditDeviceAddress address, TimeProvider time, ILogger logger) => address.Kind switch
    {
        AuditDeviceKind.File => new AuditFileDevice(address, time, logger),
        _ => new SyslogDevice(address, time, logger),
    };

    /// <summary>Appends <paramref name="lines"/> in order; throws <see cref="IOException"/> when the device cannot take them.</summary>
    public void Write(IReadOnlyList<AuditDeviceLine> lines)
    {
        lock (_lock)
        {
            if (time.GetUtcNow() < _retryAt)
            {
                AuditDeviceMetrics.Failures.WithLabels(address.Name).Inc();
                throw new IOException($"The audit device {address.Name} failed less than {Backoff.TotalSeconds:0} s ago.");
            }
            try
            {
                WriteLines(lines);
            }
            catch (Exception ex) when (ex is IOException or SocketException or UnauthorizedAccessException or ObjectDisposedException or OperationCanceledException)
            {
                LastFailure = time.GetUtcNow();
                _retryAt = LastFailure + Backoff;
                Close();
                AuditDeviceMetrics.Failures.WithLabels(address.Name).Inc();
                LogWriteFailed(logger, address.Name, lines.Count, ex);
                throw new IOException($"The audit device {address.Name} could not take {lines.Count} record(s).", ex);
            }
        }
    }

    /// <summary>Closes the file or socket; the next write opens it again (SIGHUP, after logrotate moved the file).</summary>
    public void Reopen()
    {
        lock (_lock)
        {
            Close();
            _retryAt = DateTimeOffset.MinValue;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            Close();
        }
    }

    /// <summary>Writes every line, opening the file or socket first if it is closed.</summary>
    protected abstract void WriteLines(IReadOnlyList<AuditDeviceLine> lines);

    protected abstract void Close();

    [LoggerMessage(EventId = 6110, Level = LogLevel.Error, Message = "The audit device {Device} could not take {Count} record(s)")]
    private static partial void LogWriteFailed(ILogger logger, string device, int count, Exception exception);
}
