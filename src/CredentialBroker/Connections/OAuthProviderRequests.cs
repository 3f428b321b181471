using System.ComponentModel;
using System.Text.Json.Serialization;

namespace Xares.Broker.Connections;

/// <summary>
/// POST /api/v1/oauth-providers. Every member is optional at the JSON level so a missing one is
/// reported per field; unknown members are refused (a misspelt "clientSecret" must not register a
/// provider without one).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record CreateOAuthProviderRequest(
    [property: Description("What `xares-sidecar connect NAME` names: letters, digits, '.', '_' and '-'.")] string? Name,
    [property: Description("github | gitlab | forgejo | gitea | generic: fills the endpoints from baseUrl (generic needs tokenUrl).")] string? Kind,
    [property: Description("The provider's web root (https://gitlab.example.com); endpoints and gitUrl default from it.")] string? BaseUrl,
    string? AuthorizeUrl,
    string? TokenUrl,
    [property: Description("RFC 8628 device authorization endpoint; needed for `xares-sidecar connect` and POST …/connections.")] string? DeviceAuthorizationUrl,
    [property: Description("RFC 7009 revocation endpoint; without it, disconnecting cannot revoke at the provider.")] string? RevocationUrl,
    [property: Description("Optional: an endpoint that accepts the access token (OIDC userinfo); checked after each refresh, never decisive.")] string? UserInfoUrl,
    string? ClientId,
    [property: Description("The OAuth app's client secret. Write-only: stored encrypted, never returned.")] string? ClientSecret,
    [property: Description("basic (HTTP Basic, RFC 6749 §2.3.1; default) or post (client_id/client_secret in the form; GitHub's default).")] string? ClientAuth,
    [property: Description("Scopes to ask for (default per kind: gitlab read_repository write_repository, github repo).")] IReadOnlyList<string>? Scopes,
    [property: Description("Where git reaches the repositories, scheme://host[:port]; defaults to baseUrl.")] string? GitUrl,
    [property: Description("The username git sends with the access token (default oauth2).")] string? GitUsername)
{
    public override string ToString() => nameof(CreateOAuthProviderRequest);
}

/// <summary>An OAuth provider as the REST API shows it: never the client secret, only its last characters.</summary>
internal sealed record OAuthProviderResponse(
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
    IReadOnlyList<string> Scopes,
    string GitUrl,
    string GitUsername,
    string ClientSecretHint,
    DateTimeOffset CreatedAt)
{
    public static OAuthProviderResponse From(OAuthProviderRecord r) => new(r.Id, r.Name, r.Kind, r.AuthorizeUrl, r.TokenUrl, r.DeviceAuthorizationUrl,
        r.RevocationUrl, r.UserInfoUrl, r.ClientId, r.ClientAuth, r.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), r.GitUrl, r.GitUsername,
        r.SecretHint, r.CreatedAt);
}

/// <summary>One page, oldest first; <see cref="NextCursor"/> fetches the next (null on the last page).</summary>
internal sealed record OAuthProviderList(IReadOnlyList<OAuthProviderResponse> Items, string? NextCursor = null);
