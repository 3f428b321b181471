using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.ApiKeys;

/// <summary>
/// Creating and revoking API keys, audited in the same transaction: one path for
/// POST/DELETE /api/v1/api-keys and the web UI's admin pages.
/// </summary>
internal static class ApiKeyIssuance
{
    /// <summary>Validates the request, stores the key (its hash only) and its audit record; the token is in the answer only.</summary>
    public static async Task<CreatedApiKey> CreateAsync(WriteQueue writes, AuditChain audit, Caller caller, CreateApiKeyRequest body, DateTimeOffset now,
        string? remote)
    {
        var errors = new FieldErrors();
        var name = errors.Label("name", body.Name, required: true);
        var scopes = (body.Scopes ?? [.. caller.Scopes]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (scopes.Count == 0)
        {
            errors.Add("scopes", "scopes must name at least one scope.");
        }
        foreach (var unknown in scopes.Where(s => !ApiKeyScopes.All.Contains(s)))
        {
            errors.Add("scopes", $"Unknown scope; known scopes are {string.Join(", ", ApiKeyScopes.All.Order(StringComparer.Ordinal))}.");
            break;
        }
        if (body.ExpiresAt is { } requested && ApiKeyLifetime.Refusal(now, requested) is { } refusal)
        {
            errors.Add("expiresAt", $"expiresAt must {refusal}.");
        }
        errors.ThrowIfAny();

        var userId = body.UserId ?? caller.BoundUserId;
        ApiKeyEndpoints.EnsureMayGrant(caller, scopes, userId);
        var expiresAt = ApiKeyLifetime.ExpiresAt(now, body.ExpiresAt);
        var (record, token) = await writes.ExecuteAsync((c, t) =>
        {
            if (userId is not null && !UserStore.Exists(c, t, userId))
            {
                throw new NotFoundException("User");
            }
            var created = ApiKeyStore.Insert(c, t, name!, scopes, userId, now, expiresAt);
            audit.Append(c, t, new AuditEntry(AuditActions.ApiKeyCreate, AuditOutcomes.Success)
            {
                Actor = caller.Actor, RemoteAddress = remote, UserId = userId,
                Detail = $"key {created.Record.Id} scopes {string.Join(' ', scopes)}",
            });
            return created;
        });
        return new CreatedApiKey(record.Id, record.Name, record.Prefix, record.Scopes, record.UserId, record.CreatedAt, record.ExpiresAt, token);
    }

    /// <summary>Revokes a key the caller may see (else 404); revoking twice is not an error, and only the first revocation is recorded.</summary>
    public static Task RevokeAsync(WriteQueue writes, AuditChain audit, Caller caller, string id, DateTimeOffset now, string? remote) =>
        writes.ExecuteAsync((c, t) =>
        {
            var key = ApiKeyStore.Find(c, t, id);
            if (key is null || (caller.BoundUserId is not null && key.UserId != caller.BoundUserId))
            {
                throw new NotFoundException("API key");
            }
            if (ApiKeyStore.Revoke(c, t, id, now))
            {
                audit.Append(c, t, new AuditEntry(AuditActions.ApiKeyRevoke, AuditOutcomes.Success)
                {
                    Actor = caller.Actor, RemoteAddress = remote, UserId = key.UserId, Detail = $"key {id}",
                });
            }
        });
}
