using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xares.Broker.CredentialHealth;
using Xares.GitTargets;

namespace Xares.Broker.Minted;

/// <summary>A minted installation token and when GitHub says it expires.</summary>
internal sealed record InstallationToken(string Token, DateTimeOffset ExpiresAt)
{
    public override string ToString() => $"{nameof(InstallationToken)} {{ Token = [redacted], ExpiresAt = {ExpiresAt:O} }}";
}

/// <summary>An installation as GET /app/installations lists it.</summary>
internal sealed record InstallationInfo(long Id, string Account, string? RepositorySelection);

/// <summary>What a GitHub call produced: a value, or a reason that never holds a token or the JWT.</summary>
internal sealed record GitHubResult<T>(T? Value, string? Error)
{
    public static GitHubResult<T> Failed(string error) => new(default, error);
}

/// <summary>
/// The GitHub REST endpoints a GitHub App uses (GitHub.com or Enterprise Server under its API URL),
/// through the broker's rule-j outbound client: create an installation access token, find an
/// installation, list installations, and revoke an installation token.
/// </summary>
internal sealed class GitHubAppClient(OutboundAllowList allow, TimeProvider time) : IDisposable
{
    // A token response lists every repository it covers in full, so the cap is above the 64 KiB of credential tests.
    private readonly OutboundHttp _http = new(allow, maxBodyBytes: 4 * 1024 * 1024);

    public async Task<GitHubResult<InstallationToken>> CreateInstallationTokenAsync(GitHubAppRecord app, RSA key, long installationId,
        IReadOnlyList<string> repositories, string access, CancellationToken cancellationToken)
    {
        var url = Endpoint(app.ApiUrl, $"app/installations/{installationId.ToString(CultureInfo.InvariantCulture)}/access_tokens");
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["repositories"] = repositories,
            ["permissions"] = new Dictionary<string, string> { ["contents"] = access, ["metadata"] = "read" },
        });
        var response = await _http.SendAsync(HttpMethod.Post, url, request =>
        {
            AppHeaders(request, app, key);
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }, cancellationToken);
        if (response.Status != 201)
        {
            return GitHubResult<InstallationToken>.Failed(Describe(response, "creating an installation token"));
        }
        try
        {
            using var document = JsonDocument.Parse(response.Body);
            var root = document.RootElement;
            var token = root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var expires = root.TryGetProperty("expires_at", out var e) && e.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(e.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at.ToUniversalTime() : (DateTimeOffset?)null;
            // Any length and alphabet (GitHub changes its token formats); only what git's protocol cannot carry is refused.
            if (string.IsNullOrEmpty(token) || !ProtocolText.IsSafe(token) || token.Any(char.IsWhiteSpace) || token.Length > 8192)
            {
                return GitHubResult<InstallationToken>.Failed("GitHub answered 201 without a usable token");
            }
            if (expires is not { } expiresAt || expiresAt <= time.GetUtcNow())
            {
                return GitHubResult<InstallationToken>.Failed("GitHub answered 201 without a future expires_at");
            }
            return new GitHubResult<InstallationToken>(new InstallationToken(token, expiresAt), null);
        }
        catch (JsonException)
        {
            return GitHubResult<InstallationToken>.Failed("GitHub's token response is not JSON");
        }
    }

    /// <summary>GET /repos/{owner}/{repo}/installation: the installation of the app that covers this repository.</summary>
    public async Task<GitHubResult<long>> FindInstallationAsync(GitHubAppRecord app, RSA key, string owner, string repository, CancellationToken cancellationToken)
    {
        var url = Endpoint(app.ApiUrl, $"repos/{Uri.EscapeDataString(owner)}/{Uri.EscapeDataString(repository)}/installation");
        var response = await _http.SendAsync(HttpMethod.Get, url, request => AppHeaders(request, app, key), cancellationToken);
        if (response.Status != 200)
        {
            return GitHubResult<long>.Failed(Describe(response, $"looking up the installation for {owner}/{repository}"));
        }
        try
        {
            using var document = JsonDocument.Parse(response.Body);
            return document.RootElement.TryGetProperty("id", out var id) && id.TryGetInt64(out var value) && value > 0
                ? new GitHubResult<long>(value, null)
                : GitHubResult<long>.Failed("GitHub's installation response has no id");
        }
        catch (JsonException)
        {
            return GitHubResult<long>.Failed("GitHub's installation response is not JSON");
        }
    }

    /// <summary>GET /app/installations (first 100).</summary>
    public async Task<GitHubResult<List<InstallationInfo>>> ListInstallationsAsync(GitHubAppRecord app, RSA key, CancellationToken cancellationToken)
    {
        var response = await _http.SendAsync(HttpMethod.Get, Endpoint(app.ApiUrl, "app/installations?per_page=100"), request => AppHeaders(request, app, key), cancellationToken);
        if (response.Status != 200)
        {
            return GitHubResult<List<InstallationInfo>>.Failed(Describe(response, "listing installations"));
        }
        try
        {
            using var document = JsonDocument.Parse(response.Body);
            var list = document.RootElement.EnumerateArray().Select(i => new InstallationInfo(
                i.GetProperty("id").GetInt64(),
                i.TryGetProperty("account", out var account) && account.ValueKind == JsonValueKind.Object && account.TryGetProperty("login", out var login) ? login.GetString() ?? "" : "",
                i.TryGetProperty("repository_selection", out var selection) ? selection.GetString() : null)).ToList();
            return new GitHubResult<List<InstallationInfo>>(list, null);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return GitHubResult<List<InstallationInfo>>.Failed("GitHub's installation list is not the documented JSON");
        }
    }

    /// <summary>DELETE /installation/token with the token itself as bearer. Already invalid (401) counts as revoked.</summary>
    public async Task<GitHubResult<bool>> RevokeInstallationTokenAsync(string apiUrl, string token, CancellationToken cancellationToken)
    {
        var response = await _http.SendAsync(HttpMethod.Delete, Endpoint(apiUrl, "installation/token"), request =>
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            GitHubHeaders(request);
        }, cancellationToken);
        return response.Status switch
        {
            204 => new GitHubResult<bool>(true, null),
            401 => new GitHubResult<bool>(false, null),
            _ => GitHubResult<bool>.Failed(Describe(response, "revoking an installation token")),
        };
    }

    public static Uri Endpoint(string apiUrl, string relative) => new(apiUrl.TrimEnd('/') + "/" + relative);

    private void AppHeaders(HttpRequestMessage request, GitHubAppRecord app, RSA key)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GitHubAppJwt.Create(key, app.AppId, time.GetUtcNow()));
        GitHubHeaders(request);
    }

    private static void GitHubHeaders(HttpRequestMessage request)
    {
        request.Headers.Accept.ParseAdd("application/vnd.github+json");
        request.Headers.Add("X-GitHub-Api-Version", "2022-11-28");
    }

    /// <summary>The status and GitHub's own message (documented as {message, documentation_url}), cut short and printable.</summary>
    private static string Describe(OutboundResponse response, string what)
    {
        if (response.Error is not null)
        {
            return $"{what} failed: {response.Error}";
        }
        string? message = null;
        try
        {
            using var document = JsonDocument.Parse(response.Body);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
            {
                message = new string((m.GetString() ?? "").Where(c => !char.IsControl(c)).Take(200).ToArray());
            }
        }
        catch (JsonException)
        {
        }
        return $"{what} failed: GitHub answered HTTP {response.Status}" + (string.IsNullOrEmpty(message) ? "" : $" ({message})");
    }

    public void Dispose() => _http.Dispose();
}
