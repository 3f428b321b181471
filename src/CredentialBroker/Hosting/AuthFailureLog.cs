namespace Xares.Broker.Hosting;

/// <summary>
/// Every failed authentication is counted (xares_auth_failures_total) and logged once, with the
/// surface, the client address and why — never the token that was presented.
/// </summary>
internal static partial class AuthFailureLog
{
    public static void Record(ILogger logger, string surface, string? remoteAddress, string reason)
    {
        BrokerMetrics.AuthFailures.WithLabels(surface).Inc();
        Failed(logger, surface, remoteAddress ?? "unknown", reason);
    }

    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning, Message = "Authentication failed on {Surface} from {RemoteAddress}: {Reason}")]
    private static partial void Failed(ILogger logger, string surface, string remoteAddress, string reason);
}
