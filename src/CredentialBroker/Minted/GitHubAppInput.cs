using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xares.Broker.Api;
using Xares.Broker.Credentials.Matching;
using Xares.Broker.Credentials;

namespace Xares.Broker.Minted;

/// <summary>A validated registration; <see cref="Key"/> is the imported private key (the caller disposes it).</summary>
internal sealed record GitHubAppInput(string Name, string AppId, string ApiUrl, GitDestination Git, IReadOnlyList<GitHubAppInstallation> Installations, RSA Key)
{
    public override string ToString() => $"{nameof(GitHubAppInput)} {{ AppId = {AppId}, ApiUrl = {ApiUrl}, GitUrl = {Git.OriginUrl} }}";
}

/// <summary>The rules of POST /api/v1/github-apps. Messages name the rule, never the value (a pasted field may hold a key).</summary>
internal static partial class GitHubAppValidation
{
    public const string DefaultApiUrl = "https://api.github.com";
    private const int MaxKeyLength = 16 * 1024;

    public static GitHubAppInput Validate(CreateGitHubAppRequest body)
    {
        var errors = new FieldErrors();
        var name = errors.Label("name", body.Name, required: true);
        var appId = AppId(errors, body.AppId);
        var apiUrl = ApiUrl(errors, body.ApiUrl);
        var git = GitUrl(errors, body.GitUrl, apiUrl);
        var installations = Installations(errors, body.Installations);
        RSA? key = null;
        if (string.IsNullOrWhiteSpace(body.PrivateKey))
        {
            errors.Add("privateKey", "privateKey is required: the app's private key in PEM.");
        }
        else if (body.PrivateKey.Length > MaxKeyLength || (key = GitHubAppJwt.TryImportPrivateKey(body.PrivateKey)) is null)
        {
            errors.Add("privateKey",
                "privateKey must be a PEM RSA private key of at least 2048 bits (-----BEGIN RSA PRIVATE KEY----- as GitHub downloads it, or -----BEGIN PRIVATE KEY-----).");
        }
        if (errors.Any)
        {
            key?.Dispose();
            errors.ThrowIfAny("The GitHub App registration has invalid fields; nothing was stored.");
        }
        return new GitHubAppInput(name!, appId!, apiUrl!, git!, installations, key!);
    }

    private static string? AppId(FieldErrors errors, JsonElement value)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out var number) && number > 0 => number.ToString(CultureInfo.InvariantCulture),
            JsonValueKind.String => JsonText.Of(value),
            _ => null,
        };
        if (text is null || !AppIdPattern().IsMatch(text))
        {
            errors.Add("appId", "appId is required: the app's numeric id (or its client id, e.g. Iv23li…).");
            return null;
        }
        return text;
    }

    private static string? ApiUrl(FieldErrors errors, string? value)
    {
        var text = string.IsNullOrWhiteSpace(value) ? DefaultApiUrl : value.Trim().TrimEnd('/');
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.UserInfo.Length > 0
            || uri.Query.Length > 0 || uri.Fragment.Length > 0 || text.Length > 2048)
        {
            errors.Add("apiUrl", "apiUrl must be an https URL without credentials, query or fragment (https://api.github.com or https://HOST/api/v3).");
            return null;
        }
        return text;
    }

    private static GitDestination? GitUrl(FieldErrors errors, string? value, string? apiUrl)
    {
        var text = value?.Trim().TrimEnd('/');
        if (string.IsNullOrEmpty(text) && apiUrl is not null)
        {
            var api = new Uri(apiUrl);
            text = api.Host == "api.github.com" ? "https://github.com"
                : api.AbsolutePath.TrimEnd('/').EndsWith("/api/v3", StringComparison.OrdinalIgnoreCase) ? api.GetLeftPart(UriPartial.Authority)
                : null;
            if (text is null)
            {
                errors.Add("gitUrl", "gitUrl is required when apiUrl is neither https://api.github.com nor https://HOST/api/v3.");
                return null;
            }
        }
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        if (!GitDestination.TryParse(text, out var git, out var error) || git.HasPath)
        {
            errors.Add("gitUrl", git is { HasPath: true } ? "gitUrl must be scheme://host[:port] without a path." : "gitUrl is not valid: " + error);
            return null;
        }
        return git;
    }

    private static List<GitHubAppInstallation> Installations(FieldErrors errors, JsonElement value)
    {
        var list = new List<GitHubAppInstallation>();
        if (value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return list;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add("installations", "installations must be an array of {owner, installationId}.");
            return list;
        }
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var field = $"installations[{index++}]";
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("owner", out var ownerMember) || JsonText.Of(ownerMember) is not { } owner || !OwnerPattern().IsMatch(owner)
                || !item.TryGetProperty("installationId", out var id) || !id.TryGetInt64(out var installationId) || installationId <= 0)
            {
                errors.Add(field, "each installation is {owner: \"account login\", installationId: a positive number}.");
                continue;
            }
            if (list.Any(i => string.Equals(i.Owner, owner, StringComparison.OrdinalIgnoreCase)))
            {
                errors.Add(field, "each owner may be named once.");
                continue;
            }
            list.Add(new GitHubAppInstallation(owner, installationId));
        }
        return list;
    }

    [GeneratedRegex("^[A-Za-z0-9.]{1,64}$")]
    private static partial Regex AppIdPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex OwnerPattern();
}
