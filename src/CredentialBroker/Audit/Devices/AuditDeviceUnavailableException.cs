using Xares.Broker.Api;

namespace Xares.Broker.Audit.Devices;

/// <summary>A required audit device could not take the records of a write: the write rolled back (REST 503, gRPC Unavailable).</summary>
internal sealed class AuditDeviceUnavailableException(Exception inner)
    : DomainException("A required audit device cannot record the change; nothing was changed. Retry later.")
{
    public override string ProblemType => "audit-device-unavailable";

    public override int StatusCode => StatusCodes.Status503ServiceUnavailable;

    public Exception Cause { get; } = inner;
}
