namespace Xares.DevGitServer;

internal static partial class GitServerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Method} {Path} as {Username} -> {StatusCode}")]
    public static partial void Served(ILogger logger, string method, string path, string username, int statusCode);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "{Method} {Path} refused ({Outcome}) for user {Username}")]
    public static partial void Refused(ILogger logger, string method, string path, AuthOutcome outcome, string? username);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "git http-backend exited with {ExitCode} for {Path}: {Stderr}")]
    public static partial void BackendFailed(ILogger logger, int exitCode, string path, string stderr);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Refused malformed path {Path}")]
    public static partial void BadPath(ILogger logger, string path);
}
