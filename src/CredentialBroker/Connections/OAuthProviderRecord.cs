using Xares.Broker.Vault;

namespace Xares.Broker.Connections;

/// <summary>
/// A registered OAuth 2.0 provider. <see cref="SealedSecret"/> is its client secret, sealed; never
/// shown (responses carry <see cref="SecretHint"/>).
/// </summary>
internal sealed record OAuthProviderRecord(
    string Id,
    string Name,
    string Kind,
    string? AuthorizeUrl,
    string TokenUrl,
    string? DeviceAuthorizationUrl,
    string? RevocationUrl,
    string? UserInfoUrl,
    string ClientId,
    string ClientAuth,
    string Scopes,
    string GitUrl,
    string GitScheme,
    string GitHost,
    int GitPort,
    string GitUsername,
    SealedSecret SealedSecret,
    string SecretHint,
    DateTimeOffset CreatedAt)
{
    public const string IdPrefix = "oauthp_";

    /// <summary>What the client secret's ciphertext is bound to: the row, the client id and every endpoint it is sent to.</summary>
    public SecretContext SecretContext => ContextFor(Id, ClientId, TokenUrl, DeviceAuthorizationUrl, RevocationUrl);

    public static SecretContext ContextFor(string id, string clientId, string tokenUrl, string? deviceUrl, string? revocationUrl) =>
        new(id, "", 1, "oauth-client-secret", "oauth", $"{tokenUrl} {deviceUrl} {revocationUrl}", clientId);

    public override string ToString() => $"{nameof(OAuthProviderRecord)} {{ Id = {Id}, Name = {Name}, TokenUrl = {TokenUrl}, GitUrl = {GitUrl} }}";
}

/// <summary>Connection statuses (REST <c>status</c>).</summary>
internal static class ConnectionStatus
{
    public const string Pending = "pending";
    public const string Active = "active";
    public const string ReconnectRequired = "reconnect_required";
    public const string Denied = "denied";
    public const string Expired = "expired";
}
