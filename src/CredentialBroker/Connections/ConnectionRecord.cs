using Xares.Broker.Vault;

namespace Xares.Broker.Connections;

/// <summary>
/// A user's connection to an OAuth provider. While pending it holds the device code (sealed);
/// once active, the token pair (sealed, <see cref="TokenVersion"/> bumped by every refresh).
/// </summary>
internal sealed record ConnectionRecord(
    string Id,
    string ProviderId,
    string UserId,
    string? WorkspaceId,
    string Status,
    string? UserCode,
    string? VerificationUri,
    string? VerificationUriComplete,
    DateTimeOffset? DeviceExpiresAt,
    TimeSpan PollInterval,
    DateTimeOffset? NextPollAt,
    SealedSecret? SealedDeviceCode,
    long TokenVersion,
    SealedSecret? SealedTokens,
    DateTimeOffset? AccessExpiresAt,
    bool HasRefreshToken,
    DateTimeOffset? RefreshClaimUntil,
    int RefreshFailures,
    DateTimeOffset? RefreshNotBefore,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ConnectedAt,
    DateTimeOffset? RefreshedAt)
{
    public const string IdPrefix = "conn_";

    public SecretContext DeviceCodeContext => DeviceContextFor(Id, UserId, ProviderId);

    public SecretContext TokensContext => TokensContextFor(Id, UserId, ProviderId, TokenVersion);

    public static SecretContext DeviceContextFor(string id, string userId, string providerId) =>
        new(id, userId, 0, "oauth-device-code", providerId, "", "");

    /// <summary>The token pair is bound to the connection, its owner, provider and version: an older pair written back fails to decrypt.</summary>
    public static SecretContext TokensContextFor(string id, string userId, string providerId, long version) =>
        new(id, userId, version, "oauth-tokens", providerId, "", "");

    public override string ToString() => $"{nameof(ConnectionRecord)} {{ Id = {Id}, UserId = {UserId}, Status = {Status}, TokenVersion = {TokenVersion} }}";
}
