using System.Text;
using System.Text.Json;
using Xares.Broker.Api;
using Xares.Broker.Credentials.Matching;
using Xares.GitTargets;

namespace Xares.Broker.Credentials;

/// <summary>
/// Field rules shared by create and update. Error messages name the rule, never the value: a
/// pasted URL or username field can hold a token.
/// </summary>
internal static class CredentialInput
{
    public const int MaxSecretBytes = 8 * 1024;
    private const int MaxUsernameLength = 256;
    private const int MaxBaseUrlLength = 2048;

    public static void Kind(FieldErrors errors, string? kind)
    {
        if (string.IsNullOrEmpty(kind))
        {
            errors.Add("kind", "kind is required (\"git\" or \"ai\").");
        }
        else if (CredentialKinds.ProvidersOf(kind) is null)
        {
            errors.Add("kind", "kind must be \"git\" or \"ai\".");
        }
    }

    public static void Provider(FieldErrors errors, string kind, string? provider, bool required)
    {
        var providers = CredentialKinds.ProvidersOf(kind);
        if (providers is null)
        {
            return;
        }
        if (provider is null)
        {
            if (required)
            {
                errors.Add("provider", $"provider is required (one of {string.Join(", ", providers)}).");
            }
        }
        else if (!providers.Contains(provider))
        {
            errors.Add("provider", $"provider must be one of {string.Join(", ", providers)} for {kind} credentials.");
        }
    }

    /// <summary>Rule c: no CR, LF or NUL; never empty; at most 8 KiB of UTF-8.</summary>
    public static void Secret(FieldErrors errors, string? secret, bool required)
    {
        if (secret is null)
        {
            if (required)
            {
                errors.Add("secret", "secret is required.");
            }
            return;
        }
        if (string.IsNullOrWhiteSpace(secret))
        {
            errors.Add("secret", "secret must not be empty.");
        }
        else if (!ProtocolText.IsSafe(secret))
        {
            errors.Add("secret", "secret must not contain CR, LF or NUL characters.");
        }
        else if (Encoding.UTF8.GetByteCount(secret) > MaxSecretBytes)
        {
            errors.Add("secret", $"secret must be at most {MaxSecretBytes} bytes.");
        }
    }

    public static string? Username(FieldErrors errors, string? username, bool required)
    {
        if (username is null)
        {
            if (required)
            {
                errors.Add("username", "username is required for git credentials (e.g. \"x-access-token\" or \"oauth2\").");
            }
            return null;
        }
        // Checked before trimming: a CR or LF is refused, never silently dropped.
        var trimmed = username.Trim();
        if (!ProtocolText.IsSafe(username))
        {
            errors.Add("username", "username must not contain CR, LF or NUL characters.");
        }
        else if (trimmed.Length == 0)
        {
            errors.Add("username", "username must not be empty.");
        }
        else if (trimmed.Length > MaxUsernameLength)
        {
            errors.Add("username", $"username must be at most {MaxUsernameLength} characters.");
        }
        return trimmed;
    }

    /// <summary>A git URL, parsed once into its canonical form and matching columns (rule b).</summary>
    public static GitDestination? GitUrl(FieldErrors errors, string? url, bool required)
    {
        if (url is null)
        {
            if (required)
            {
                errors.Add("url", "url is required for git credentials (e.g. https://github.com/org).");
            }
            return null;
        }
        if (!GitDestination.TryParse(url, out var destination, out var error))
        {
            errors.Add("url", error);
            return null;
        }
        return destination;
    }

    /// <summary>
    /// An AI provider's base URL: absolute https (http only to loopback), no userinfo, query or
    /// fragment. Canonical form: scheme://host[:port]/path without a trailing slash.
    /// </summary>
    public static string? BaseUrl(FieldErrors errors, string? value)
    {
        if (value is null)
        {
            return null;
        }
        const string rule = "baseUrl must be an absolute https:// URL (http:// only for loopback) without credentials, query or fragment.";
        if (value.Length is 0 or > MaxBaseUrlLength || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            || !Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
            || uri.UserInfo.Length > 0 || value.Contains('@', StringComparison.Ordinal)
            || uri.Query.Length > 0 || uri.Fragment.Length > 0 || value.Contains('#', StringComparison.Ordinal))
        {
            errors.Add("baseUrl", rule);
            return null;
        }
        return uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped) + uri.AbsolutePath.TrimEnd('/');
    }

    /// <summary>
    /// monthlyLimit: absent → unchanged; a whole number from 1 to <see cref="MonthlyQuota.MaxLimit"/>
    /// → set; JSON null → no limit (on PATCH: remove it). Anything else (0, negative, fractional,
    /// a string) is refused rather than guessed at.
    /// </summary>
    public static FieldChange<long?> MonthlyLimit(FieldErrors errors, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined:
                return FieldChange<long?>.Unchanged;
            case JsonValueKind.Null:
                return new(true, null);
            case JsonValueKind.Number when value.TryGetInt64(out var limit) && limit is >= 1 and <= MonthlyQuota.MaxLimit:
                return new(true, limit);
            default:
                errors.Add("monthlyLimit", $"monthlyLimit must be a whole number from 1 to {MonthlyQuota.MaxLimit}, or null for no limit.");
                return FieldChange<long?>.Unchanged;
        }
    }

    /// <summary>delivery: absent or null → the default (create) or unchanged (PATCH); else "proxy" or "any".</summary>
    public static void Delivery(FieldErrors errors, string? value)
    {
        if (value is not null && !CredentialDelivery.IsKnown(value))
        {
            errors.Add("delivery", $"delivery must be \"{CredentialDelivery.Proxy}\" or \"{CredentialDelivery.Any}\".");
        }
    }

    /// <summary>PATCH name: absent → unchanged; null → no name; a string → set (trimmed; blank also removes it).</summary>
    public static FieldChange<string?> NameChange(FieldErrors errors, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Undefined => FieldChange<string?>.Unchanged,
        JsonValueKind.Null => new(true, null),
        JsonValueKind.String when JsonText.Of(value) is { } name => new(true, errors.Label("name", name, required: false)),
        _ => Refused<string?>(errors, "name", "name must be a string, or null for no name."),
    };

    /// <summary>PATCH expiresAt: absent → unchanged; null → no expiry; an RFC 3339 date-time in the future → set.</summary>
    public static FieldChange<DateTimeOffset?> ExpiresAtChange(FieldErrors errors, JsonElement value, DateTimeOffset now)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined:
                return FieldChange<DateTimeOffset?>.Unchanged;
            case JsonValueKind.Null:
                return new(true, null);
            case JsonValueKind.String when value.TryGetDateTimeOffset(out var at):
                errors.Future("expiresAt", at, now);
                return new(true, at);
            default:
                return Refused<DateTimeOffset?>(errors, "expiresAt", "expiresAt must be an RFC 3339 date-time in the future, or null for no expiry.");
        }
    }

    /// <summary>PATCH baseUrl: absent → unchanged; null → the provider's default base URL; a URL → set (see <see cref="BaseUrl"/>).</summary>
    public static FieldChange<string?> BaseUrlChange(FieldErrors errors, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Undefined => FieldChange<string?>.Unchanged,
        JsonValueKind.Null => new(true, null),
        JsonValueKind.String when JsonText.Of(value) is { } url => new(true, BaseUrl(errors, url)),
        _ => Refused<string?>(errors, "baseUrl", "baseUrl must be a string, or null for the provider's default."),
    };

    private static FieldChange<T> Refused<T>(FieldErrors errors, string field, string message)
    {
        errors.Add(field, message);
        return FieldChange<T>.Unchanged;
    }

    /// <summary>The matching columns stored next to a git credential's canonical URL.</summary>
    public static GitEndpoint Endpoint(GitDestination destination) =>
        new(destination.Scheme, destination.Host, destination.Port, destination.CanonicalUrl[destination.OriginUrl.Length..]);
}
