using System.Security.Cryptography;
using System.Text;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Security;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Minted;

/// <summary>Registers and deletes GitHub Apps, each in one write unit with its audit record.</summary>
internal sealed class GitHubAppRegistry(WriteQueue writes, Keyring keyring, AuditChain audit, MintedTokenRevocation tokens, TimeProvider time)
{
    public async Task<GitHubAppRecord> RegisterAsync(Caller caller, CreateGitHubAppRequest body, string? remoteAddress)
    {
        var input = GitHubAppValidation.Validate(body);
        using var key = input.Key;
        var id = OpaqueToken.NewId("ghapp_");
        var git = input.Git;
        var plaintext = Encoding.UTF8.GetBytes(body.PrivateKey!);
        SealedSecret sealedKey;
        try
        {
            sealedKey = keyring.Seal(plaintext, GitHubAppRecord.ContextFor(id, input.AppId, input.ApiUrl, git.OriginUrl));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
        var record = new GitHubAppRecord(id, input.Name, input.AppId, input.ApiUrl, git.OriginUrl, git.Scheme, git.Host, git.Port, input.Installations,
            sealedKey, GitHubAppJwt.Fingerprint(key), time.GetUtcNow());
        return await writes.ExecuteAsync((c, t) =>
        {
            if (GitHubAppStore.FindByGitOrigin(c, t, git.Scheme, git.Host, git.Port) is { } existing)
            {
                throw new ConflictException($"GitHub App {existing.Id} already serves {git.OriginUrl}; delete it first.");
            }
            GitHubAppStore.Insert(c, t, record);
            audit.Append(c, t, new AuditEntry(MintedAuditActions.AppRegister, AuditOutcomes.Success)
            {
                Actor = caller.Actor, RemoteAddress = remoteAddress, CredentialId = id,
                Detail = $"app {record.AppId} api {record.ApiUrl} git {record.GitUrl} key {record.KeyHint}",
            });
            return record;
        });
    }

    /// <summary>Deletes the app; every token minted through it is revoked here and queued for revocation at GitHub.</summary>
    public Task DeleteAsync(Caller caller, string id, string? remoteAddress) =>
        writes.ExecuteAsync((c, t) =>
        {
            var app = GitHubAppStore.Find(c, t, id) ?? throw new NotFoundException("The GitHub App");
            // Before the row goes: the outbox copies its API URL.
            var revoked = tokens.RevokeForSource(c, t, id, time.GetUtcNow());
            GitHubAppStore.Delete(c, t, id);
            audit.Append(c, t, new AuditEntry(MintedAuditActions.AppDelete, AuditOutcomes.Success)
            {
                Actor = caller.Actor, RemoteAddress = remoteAddress, CredentialId = id,
                Detail = $"app {app.AppId} git {app.GitUrl}; {revoked.Count} minted token(s) revoked" + (revoked.Count == 0 ? "" : ": " + string.Join(' ', revoked)),
            });
        });

    /// <summary>The app's private key, for signing its JWTs (the caller disposes it).</summary>
    public RSA OpenKey(GitHubAppRecord app)
    {
        var pem = keyring.Open(app.SealedKey, app.KeyContext);
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(Encoding.UTF8.GetString(pem));
            return rsa;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pem);
        }
    }
}
