using System.Text.Json;
using Xares.Broker.Vault;

namespace Xares.Broker.Minted;

/// <summary>An installation named at registration: the account (user or organisation) and its installation id.</summary>
internal sealed record GitHubAppInstallation(string Owner, long InstallationId);

/// <summary>A registered GitHub App. <see cref="SealedKey"/> is its private key, sealed; never shown.</summary>
internal sealed record GitHubAppRecord(
    string Id,
    string Name,
    string AppId,
    string ApiUrl,
    string GitUrl,
    string GitScheme,
    string GitHost,
    int GitPort,
    IReadOnlyList<GitHubAppInstallation> Installations,
    SealedSecret SealedKey,
    string KeyHint,
    DateTimeOffset CreatedAt)
{
    /// <summary>What the private key's ciphertext is bound to: the row, the app id, the API and git URLs.</summary>
    public SecretContext KeyContext => ContextFor(Id, AppId, ApiUrl, GitUrl);

    public static SecretContext ContextFor(string id, string appId, string apiUrl, string gitUrl) =>
        new(id, "", 1, "github-app-key", "github", apiUrl + " " + gitUrl, appId);

    public long? InstallationFor(string owner) =>
        Installations.FirstOrDefault(i => string.Equals(i.Owner, owner, StringComparison.OrdinalIgnoreCase))?.InstallationId;

    internal static string SerializeInstallations(IReadOnlyList<GitHubAppInstallation> installations) => JsonSerializer.Serialize(installations);

    internal static IReadOnlyList<GitHubAppInstallation> DeserializeInstallations(string? json) =>
        json is null ? [] : JsonSerializer.Deserialize<GitHubAppInstallation[]>(json) ?? [];

    // A record would print every member; the sealed key is not secret in itself, but keep logs short.
    public override string ToString() => $"{nameof(GitHubAppRecord)} {{ Id = {Id}, AppId = {AppId}, ApiUrl = {ApiUrl}, GitUrl = {GitUrl} }}";
}
