namespace Xares.Broker.Minted;

internal static partial class MintedLog
{
    [LoggerMessage(EventId = 1700, Level = LogLevel.Information, Message = "Minted {TokenId} through GitHub App {AppId} for workspace {WorkspaceId}, expires {ExpiresAt}")]
    public static partial void Minted(ILogger logger, string tokenId, string appId, string workspaceId, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 1701, Level = LogLevel.Warning, Message = "Minting through GitHub App {AppId} for workspace {WorkspaceId} failed: {Reason}")]
    public static partial void MintFailed(ILogger logger, string appId, string workspaceId, string reason);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Information, Message = "Revoked {TokenId} at GitHub ({Outcome})")]
    public static partial void UpstreamRevoked(ILogger logger, string tokenId, string outcome);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Warning, Message = "Revoking {TokenId} at GitHub failed (attempt {Attempt}, next in {RetryIn}): {Reason}")]
    public static partial void UpstreamRevokeFailed(ILogger logger, string tokenId, int attempt, TimeSpan retryIn, string reason);

    [LoggerMessage(EventId = 1704, Level = LogLevel.Error, Message = "The upstream revocation pass failed: {Reason}")]
    public static partial void PassFailed(ILogger logger, string reason);
}
