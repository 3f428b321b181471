namespace Xares.Broker.CredentialHealth;

internal static partial class CredentialHealthLog
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Credential {CredentialId} ({Provider}) tested by {Trigger}: {Outcome} {Reason}")]
    public static partial void Tested(ILogger logger, string credentialId, string provider, string trigger, string outcome, string? reason);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Credential health job: {Tested} credentials tested")]
    public static partial void Pass(ILogger logger, int tested);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Credential health job pass failed: {Error}; retrying later")]
    public static partial void PassFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Debug, Message = "Credential health job: this replica ({Holder}) does not hold the lease; another replica tests")]
    public static partial void NotLeader(ILogger logger, string holder);
}
