using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Security;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Connections;

/// <summary>Registers and deletes OAuth providers, each in one write unit with its audit record.</summary>
internal sealed class OAuthProviderRegistry(WriteQueue writes, Keyring keyring, AuditChain audit, TimeProvider time)
{
    public async Task<OAuthProviderRecord> RegisterAsync(Caller caller, CreateOAuthProviderRequest body, string? remoteAddress)
    {
        var input = OAuthProviderValidation.Validate(body);
        var id = OpaqueToken.NewId(OAuthProviderRecord.IdPrefix);
        var git = input.Git;
        var sealedSecret = TokenPair.SealText(keyring, body.ClientSecret!,
            OAuthProviderRecord.ContextFor(id, input.ClientId, input.TokenUrl, input.DeviceAuthorizationUrl, input.RevocationUrl));
        var record = new OAuthProviderRecord(id, input.Name, input.Kind, input.AuthorizeUrl, input.TokenUrl, input.DeviceAuthorizationUrl, input.RevocationUrl,
            input.UserInfoUrl, input.ClientId, input.ClientAuth, input.Scopes, git.OriginUrl, git.Scheme, git.Host, git.Port, input.GitUsername, sealedSecret,
            SecretHint.For(body.ClientSecret!), time.GetUtcNow());
        return await writes.ExecuteAsync((c, t) =>
        {
            if (OAuthProviderStore.FindByName(c, t, record.Name) is { } named)
            {
                throw new ConflictException($"OAuth provider {named.Id} is already named {record.Name}.");
            }
            if (OAuthProviderStore.FindByGitOrigin(c, t, git.Scheme, git.Host, git.Port) is { } existing)
            {
                throw new ConflictException($"OAuth provider {existing.Id} already serves {git.OriginUrl}; delete it first.");
            }
            OAuthProviderStore.Insert(c, t, record);
            audit.Append(c, t, new AuditEntry(ConnectionAuditActions.ProviderRegister, AuditOutcomes.Success)
            {
                Actor = caller.Actor, RemoteAddress = remoteAddress, CredentialId = id,
                Detail = $"{record.Name} ({record.Kind}) client {record.ClientId} token {record.TokenUrl} git {record.GitUrl} as {record.GitUsername}",
            });
            return record;
        });
    }

    /// <summary>Deletes a provider that no connection uses any more (disconnecting revokes their tokens upstream first).</summary>
    public Task DeleteAsync(Caller caller, string id, string? remoteAddress) =>
        writes.ExecuteAsync((c, t) =>
        {
            var provider = OAuthProviderStore.Find(c, t, id) ?? throw new NotFoundException("The OAuth provider");
            var connections = ConnectionStore.IdsForProvider(c, t, id);
            if (connections.Count > 0)
            {
                throw new ConflictException($"{connections.Count} connection(s) still use OAuth provider {id} ({string.Join(' ', connections.Take(10))}); "
                    + "DELETE /api/v1/connections/{id} each first, so their tokens are revoked at the provider.");
            }
            OAuthProviderStore.Delete(c, t, id);
            audit.Append(c, t, new AuditEntry(ConnectionAuditActions.ProviderDelete, AuditOutcomes.Success)
            {
                Actor = caller.Actor, RemoteAddress = remoteAddress, CredentialId = id, Detail = $"{provider.Name} ({provider.Kind}) git {provider.GitUrl}",
            });
        });

    /// <summary>The client secret, for a call to the provider (never kept beyond it).</summary>
    public string OpenSecret(OAuthProviderRecord provider) => TokenPair.OpenText(keyring, provider.SealedSecret, provider.SecretContext);
}
