using System.Text.RegularExpressions;
using Xares.Broker.Credentials;
using Xares.Broker.Credentials.Matching;
using Xares.GitTargets;

namespace Xares.Broker.Connections;

/// <summary>A validated registration (the client secret stays in the request body until sealed).</summary>
internal sealed record OAuthProviderInput(string Name, string Kind, string? AuthorizeUrl, string TokenUrl, string? DeviceAuthorizationUrl, string? RevocationUrl,
    string? UserInfoUrl, string ClientId, string ClientAuth, string Scopes, GitDestination Git, string GitUsername);

/// <summary>
/// The rules of POST /api/v1/oauth-providers, and each kind's documented endpoints under its
/// base URL. Messages name the rule, never the value (a pasted field may hold a secret).
/// </summary>
internal static partial class OAuthProviderValidation
{
    public static readonly string[] Kinds = ["github", "gitlab", "forgejo", "gitea", "generic"];

    public static OAuthProviderInput Validate(CreateOAuthProviderRequest body)
    {
        var errors = new FieldErrors();
        var name = errors.Label("name", body.Name, required: true, maxLength: 64);
        if (name is not null && !NamePattern().IsMatch(name))
        {
            errors.Add("name", "name may hold letters, digits, '.', '_' and '-' only (it is typed as `xares-sidecar connect NAME`).");
        }
        var kind = body.Kind?.Trim().ToLowerInvariant() ?? "generic";
        if (!Kinds.Contains(kind))
        {
            errors.Add("kind", "kind must be one of " + string.Join(", ", Kinds) + ".");
        }
        var baseUrl = Url(errors, "baseUrl", body.BaseUrl) ?? (kind == "github" ? "https://github.com" : kind == "gitlab" && body.BaseUrl is null ? "https://gitlab.com" : null);
        var preset = Preset(kind, baseUrl);
        var authorize = Url(errors, "authorizeUrl", body.AuthorizeUrl) ?? preset.Authorize;
        var token = Url(errors, "tokenUrl", body.TokenUrl) ?? preset.Token;
        var device = Url(errors, "deviceAuthorizationUrl", body.DeviceAuthorizationUrl) ?? preset.Device;
        var revocation = Url(errors, "revocationUrl", body.RevocationUrl) ?? preset.Revocation;
        var userInfo = Url(errors, "userInfoUrl", body.UserInfoUrl);
        if (token is null && body.TokenUrl is null)
        {
            errors.Add("tokenUrl", kind == "generic" ? "tokenUrl is required for kind generic." : "baseUrl (or tokenUrl) is required for kind " + kind + ".");
        }
        var clientId = errors.Label("clientId", body.ClientId, required: true, maxLength: 256);
        if (string.IsNullOrEmpty(body.ClientSecret))
        {
            errors.Add("clientSecret", "clientSecret is required (write-only: stored encrypted, never returned).");
        }
        else if (body.ClientSecret.Length > 1024 || !ProtocolText.IsSafe(body.ClientSecret) || body.ClientSecret.Any(char.IsControl))
        {
            errors.Add("clientSecret", "clientSecret must be at most 1024 characters without control characters.");
        }
        var clientAuth = body.ClientAuth?.Trim().ToLowerInvariant() ?? (kind == "github" ? OAuthClientAuth.Post : OAuthClientAuth.Basic);
        if (clientAuth is not (OAuthClientAuth.Basic or OAuthClientAuth.Post))
        {
            errors.Add("clientAuth", "clientAuth must be basic or post.");
        }
        var scopes = Scopes(errors, body.Scopes) ?? preset.Scopes;
        var git = GitUrl(errors, body.GitUrl ?? (kind == "github" ? "https://github.com" : baseUrl));
        var gitUsername = errors.Label("gitUsername", body.GitUsername, required: false, maxLength: 100) ?? "oauth2";
        if (gitUsername.Any(ch => ch is ':' or ' ' or '\r' or '\n' or '\0'))
        {
            errors.Add("gitUsername", "gitUsername must not contain ':', spaces or line breaks.");
        }
        errors.ThrowIfAny("The OAuth provider registration has invalid fields; nothing was stored.");
        return new OAuthProviderInput(name!, kind, authorize, token!, device, revocation, userInfo, clientId!, clientAuth, scopes, git!, gitUsername);
    }

    private sealed record Endpoints(string? Authorize, string? Token, string? Device, string? Revocation, string Scopes);

    // The documented endpoints of each kind (GitHub: device flow, no RFC 7009; GitLab: all four;
    // Forgejo and Gitea: authorization code and refresh only).
    private static Endpoints Preset(string kind, string? baseUrl) => baseUrl is null ? new(null, null, null, null, "") : kind switch
    {
        "github" => new($"{baseUrl}/login/oauth/authorize", $"{baseUrl}/login/oauth/access_token", $"{baseUrl}/login/device/code", null, "repo"),
        "gitlab" => new($"{baseUrl}/oauth/authorize", $"{baseUrl}/oauth/token", $"{baseUrl}/oauth/authorize_device", $"{baseUrl}/oauth/revoke",
            "read_repository write_repository"),
        "forgejo" or "gitea" => new($"{baseUrl}/login/oauth/authorize", $"{baseUrl}/login/oauth/access_token", null, null, ""),
        _ => new(null, null, null, null, ""),
    };

    private static string? Url(FieldErrors errors, string field, string? value)
    {
        if (value is null)
        {
            return null;
        }
        var text = value.Trim().TrimEnd('/');
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.UserInfo.Length > 0
            || uri.Fragment.Length > 0 || text.Length > 2048)
        {
            errors.Add(field, $"{field} must be an https URL without credentials or fragment.");
            return null;
        }
        return text;
    }

    private static string? Scopes(FieldErrors errors, IReadOnlyList<string>? value)
    {
        if (value is null)
        {
            return null;
        }
        if (value.Count > 50 || value.Any(s => s is null || !ScopePattern().IsMatch(s)))
        {
            errors.Add("scopes", "scopes must be an array of at most 50 scope names (printable ASCII without spaces, quotes or backslashes).");
            return null;
        }
        return string.Join(' ', value);
    }

    private static GitDestination? GitUrl(FieldErrors errors, string? value)
    {
        var text = value?.Trim().TrimEnd('/');
        if (string.IsNullOrEmpty(text))
        {
            errors.Add("gitUrl", "gitUrl is required (scheme://host[:port] where git reaches the repositories) unless baseUrl gives it.");
            return null;
        }
        if (!GitDestination.TryParse(text, out var git, out var error) || git.HasPath)
        {
            errors.Add("gitUrl", git is { HasPath: true } ? "gitUrl must be scheme://host[:port] without a path." : "gitUrl is not valid: " + error);
            return null;
        }
        return git;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,200}$")]
    private static partial Regex ScopePattern();
}
