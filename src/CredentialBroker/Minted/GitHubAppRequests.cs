using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using Xares.Broker.Api;

namespace Xares.Broker.Minted;

/// <summary>
/// POST /api/v1/github-apps. Every member is optional at the JSON level so a missing one is
/// reported per field; unknown members are refused (a misspelt "privateKey" must not register an
/// app without one).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record CreateGitHubAppRequest(
    [property: Description("A label for admins.")] string? Name,
    [property: Description("The app's id (a number, or its client id); the JWT issuer.")] JsonElement AppId,
    [property: Description("The app's private key, PEM (as GitHub downloads it). Write-only: stored encrypted, never returned.")] string? PrivateKey,
    [property: Description("GitHub's REST API: https://api.github.com (default) or https://HOST/api/v3 for GitHub Enterprise Server.")] string? ApiUrl,
    [property: Description("Where git reaches the repositories, scheme://host[:port]: https://github.com by default, https://HOST for an apiUrl ending in /api/v3.")]
    string? GitUrl,
    [property: Description("Installations to use without looking them up: [{owner, installationId}]. Others are found through GET /repos/{owner}/{repo}/installation.")]
    JsonElement Installations)
{
    public override string ToString() => nameof(CreateGitHubAppRequest);
}

/// <summary>A GitHub App as the REST API shows it: never the private key, only its public key's fingerprint.</summary>
internal sealed record GitHubAppResponse(
    string Id,
    string Name,
    string AppId,
    string ApiUrl,
    string GitUrl,
    IReadOnlyList<GitHubAppInstallation> Installations,
    [property: Description("SHA-256 of the public key (SubjectPublicKeyInfo); compare with GitHub's key fingerprint.")] string KeyFingerprint,
    DateTimeOffset CreatedAt)
{
    public static GitHubAppResponse From(GitHubAppRecord r) => new(r.Id, r.Name, r.AppId, r.ApiUrl, r.GitUrl, r.Installations, r.KeyHint, r.CreatedAt);
}

/// <summary>One page, oldest first; <see cref="NextCursor"/> fetches the next (null on the last page).</summary>
internal sealed record GitHubAppList(IReadOnlyList<GitHubAppResponse> Items, string? NextCursor = null);

internal sealed record InstallationList(IReadOnlyList<InstallationInfo> Items);

/// <summary>GitHub could not be reached or refused the call; the message names the status and GitHub's message, never a token.</summary>
internal sealed class UpstreamFailedException(string message) : DomainException(message)
{
    public override string ProblemType => "upstream";

    public override int StatusCode => StatusCodes.Status502BadGateway;
}
