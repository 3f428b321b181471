using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace Xares.Broker.Tests.Support;

/// <summary>Collects the log events of a test host (register it as an <see cref="ILogEventSink"/> service).</summary>
internal sealed class CapturingLogSink : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyCollection<LogEvent> Events => _events;

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);
}
