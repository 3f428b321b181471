using System.Text.Json;
using Xares.Broker.Vault;

namespace Xares.Broker.Minted;

/// <summary>
/// An upstream token the broker minted for one workspace and scope (installation, repositories of
/// one owner, access). Leases of it carry <see cref="Id"/> as their credential id.
/// </summary>
internal sealed record MintedToken(
    string Id,
    string SourceId,
    string WorkspaceId,
    string UserId,
    string ScopeKey,
    long InstallationId,
    string GitUrl,
    string Owner,
    IReadOnlyList<string> Repositories,
    string Access,
    SealedSecret Sealed,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? RevokedAt)
{
    public const string IdPrefix = "mint_";

    /// <summary>What the token's ciphertext is bound to: the row, its workspace, owner, app and scope.</summary>
    public SecretContext Context => ContextFor(Id, UserId, SourceId, GitUrl, ScopeKey, WorkspaceId);

    public static SecretContext ContextFor(string id, string userId, string sourceId, string gitUrl, string scopeKey, string workspaceId) =>
        new(id, userId, 1, "github-app-token", sourceId, gitUrl + " " + scopeKey, workspaceId);

    internal static string SerializeRepositories(IReadOnlyList<string> repositories) => JsonSerializer.Serialize(repositories);

    internal static IReadOnlyList<string> DeserializeRepositories(string json) => JsonSerializer.Deserialize<string[]>(json) ?? [];

    public override string ToString() => $"{nameof(MintedToken)} {{ Id = {Id}, WorkspaceId = {WorkspaceId}, ScopeKey = {ScopeKey}, ExpiresAt = {ExpiresAt:O} }}";
}
