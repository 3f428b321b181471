namespace Xares.Broker.WebUi;

internal static partial class UiLog
{
    [LoggerMessage(EventId = 1901, Level = LogLevel.Information, Message = "Web UI sign-in: user {UserId} (admin: {IsAdmin})")]
    public static partial void SignedIn(ILogger logger, string userId, bool isAdmin);

    [LoggerMessage(EventId = 1902, Level = LogLevel.Warning, Message = "Web UI sign-in refused: {Reason}")]
    public static partial void SignInRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 1903, Level = LogLevel.Warning, Message = "Web UI sign-in failed at the callback: {Reason}")]
    public static partial void SignInFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1904, Level = LogLevel.Warning,
        Message = "The web UI is served over plain http on loopback: its cookies are named without the __Host- prefix and are not Secure (development only; use https or a TLS proxy with --plaintext-behind-proxy)")]
    public static partial void InsecureCookies(ILogger logger);
}
