using System.Security.Cryptography;
using System.Text;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Leases;
using Xares.Broker.Security;
using Xares.Broker.Storage;
using Xares.Broker.Users;
using Xares.Broker.Vault;

namespace Xares.Broker.Credentials;

/// <summary>
/// Creates, changes and deletes credentials, each in one write unit with its audit record. The
/// stored row is read inside the unit, so concurrent edits cannot lose each other's changes, and
/// a new secret version revokes the old one's leases in the same commit (rule e).
/// </summary>
internal sealed class CredentialWriter(WriteQueue writes, Keyring keyring, AuditChain audit, LeaseRevocation leases, TimeProvider time)
{
    public Task<CredentialRecord> CreateAsync(Caller caller, string userId, CreateCredentialRequest body, string? remoteAddress)
    {
        caller.EnsureCanSee(userId, "User");
        var now = time.GetUtcNow();
        var input = CredentialValidation.ForCreate(body, now);
        var id = OpaqueToken.NewId("cred_");
        var context = CredentialRecord.ContextFor(id, userId, 1, input.Kind, input.Provider, input.Url, input.Username);
        var record = new CredentialRecord(id, userId, input.Kind, input.Provider, input.Name, input.Url, input.Git, input.Username, 1,
            Seal(body.Secret!, context), SecretHint.For(body.Secret!), body.ExpiresAt, now, now, 0, null) { MonthlyLimit = input.MonthlyLimit, Delivery = input.Delivery };
        return writes.ExecuteAsync((c, t) =>
        {
            if (!UserStore.Exists(c, t, userId))
            {
                throw new NotFoundException("User");
            }
            CredentialStore.Insert(c, t, record);
            audit.Append(c, t, Entry(caller, remoteAddress, AuditActions.CredentialCreate, record) with
            {
                Detail = $"{record.Kind} {record.Provider} {record.Url ?? "(default base URL)"}{(record.Kind == CredentialKinds.Ai ? $" delivery {record.Delivery}" : "")}",
            });
            return record;
        });
    }

    public Task<CredentialRecord> UpdateAsync(Caller caller, string id, UpdateCredentialRequest body, string? remoteAddress)
    {
        var now = time.GetUtcNow();
        var patch = CredentialValidation.ForUpdate(body, now);
        return writes.ExecuteAsync((c, t) =>
        {
            var current = Visible(caller, CredentialStore.Find(c, t, id));
            var (updated, changed) = CredentialValidation.Apply(current, body, patch);
            if (changed.Count == 0)
            {
                return current;
            }
            updated = updated with { UpdatedAt = now };
            if (body.Secret is not null)
            {
                updated = updated with { SecretVersion = current.SecretVersion + 1, SecretHint = SecretHint.For(body.Secret), RejectionCount = 0, FlaggedAt = null };
                updated = updated with { Sealed = Seal(body.Secret, updated.Context) };
                // Sidecars drop leases of the old secret version before the new one can be issued.
                leases.RevokeForCredential(c, t, id, current.UserId, now);
            }
            else if (updated.Delivery == CredentialDelivery.Proxy && current.Delivery != CredentialDelivery.Proxy)
            {
                // Made proxy-only: inject leases already handed out end now (sidecars drop them from their caches).
                leases.RevokeForCredential(c, t, id, current.UserId, now);
            }
            else if (updated.ExpiresAt is { } end && !(current.ExpiresAt <= end))
            {
                // A lease never outlives its credential: an earlier expiry ends the live leases that
                // would, and sidecars fetch new ones capped at the new end.
                leases.RevokeOutliving(c, t, id, end, now);
            }
            CredentialStore.Update(c, t, updated);
            audit.Append(c, t, Entry(caller, remoteAddress, AuditActions.CredentialUpdate, updated) with
            {
                Detail = $"changed {string.Join(", ", changed)}; secret version {updated.SecretVersion}",
            });
            LimitLoweredBelowUse(c, t, caller, remoteAddress, current, updated, now);
            return updated;
        });
    }

    public Task DeleteAsync(Caller caller, string id, string? remoteAddress) => writes.ExecuteAsync((c, t) =>
    {
        var current = Visible(caller, CredentialStore.Find(c, t, id));
        leases.RevokeForCredential(c, t, id, current.UserId, time.GetUtcNow());
        CredentialStore.Delete(c, t, id);
        audit.Append(c, t, Entry(caller, remoteAddress, AuditActions.CredentialDelete, current) with
        {
            Detail = $"{current.Kind} {current.Provider} {current.Url ?? "(default base URL)"}",
        });
    });

    // A limit lowered to (or below) this month's uses takes effect now: live leases end, as when usage reaches it.
    private void LimitLoweredBelowUse(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction t, Caller caller, string? remoteAddress,
        CredentialRecord current, CredentialRecord updated, DateTimeOffset now)
    {
        var before = MonthlyQuota.Of(current, now);
        var after = MonthlyQuota.Of(updated, now);
        if (!after.IsReached || before.IsReached)
        {
            return;
        }
        leases.RevokeForCredential(c, t, updated.Id, updated.UserId, now);
        audit.Append(c, t, Entry(caller, remoteAddress, UsageAuditActions.LimitReached, updated) with
        {
            Detail = $"monthly limit lowered to {after.MonthlyLimit} with {after.UsesThisMonth} uses this month; leases revoked",
        });
    }

    public static CredentialRecord Visible(Caller caller, CredentialRecord? record) =>
        record is not null && caller.CanSee(record.UserId) ? record : throw new NotFoundException("Credential");

    private SealedSecret Seal(string secret, SecretContext context)
    {
        var plaintext = Encoding.UTF8.GetBytes(secret);
        try
        {
            return keyring.Seal(plaintext, context);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static AuditEntry Entry(Caller caller, string? remoteAddress, string action, CredentialRecord record) =>
        new(action, AuditOutcomes.Success) { Actor = caller.Actor, RemoteAddress = remoteAddress, UserId = record.UserId, CredentialId = record.Id };
}
