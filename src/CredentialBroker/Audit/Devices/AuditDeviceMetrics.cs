using Prometheus;

namespace Xares.Broker.Audit.Devices;

/// <summary>Metrics of the audit devices, labelled by the device's address as configured.</summary>
internal static class AuditDeviceMetrics
{
    public static readonly Counter Failures = Metrics.CreateCounter(
        "xares_audit_device_failures_total", "Writes an audit device could not take (each failed or refused write of one or more records).",
        new CounterConfiguration { LabelNames = ["device"] });

    public static readonly Counter Dropped = Metrics.CreateCounter(
        "xares_audit_device_dropped_total", "Records an optional audit device never received: its backlog overflowed, or the broker stopped with records still waiting.",
        new CounterConfiguration { LabelNames = ["device"] });

    public static readonly Gauge Backlog = Metrics.CreateGauge(
        "xares_audit_device_backlog", "Committed records waiting for an optional audit device.",
        new GaugeConfiguration { LabelNames = ["device"] });
}
