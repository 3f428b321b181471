using System.Data.Common;
using System.Text;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Credentials.Matching;
using Xares.Broker.Hosting;
using Xares.Broker.Security;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Leases;

/// <summary>
/// Issues AI leases under the same rules as git leases (<see cref="LeaseIssuer"/>): one write
/// unit re-checks the session, picks the credential, checks its monthly limit, writes the lease
/// and its audit record; the secret leaves only after that commit. Without a named credential the
/// owner's oldest unexpired credential of the provider is used — there is no silent fallback to
/// another key when it has reached its limit (a refusal says which credential and limit).
/// </summary>
internal sealed class AiLeaseIssuer(WriteQueue writes, AuditChain audit, Keyring keyring, SessionService sessions, UsageRecorder usage,
    AiRequestGranter grants, BrokerOptions options, TimeProvider time)
{
    private const int MaxCredentialIdLength = 128;

    public Task<AiLeaseOutcome> IssueAsync(string? sessionToken, AiLeaseRequest request, string? remoteAddress)
    {
        Validate(request);
        return writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            var lookup = sessions.CheckWithin(c, t, sessionToken, now, remoteAddress);
            return lookup.Check != SessionCheck.Valid ? new AiLeaseOutcome(lookup.Check) : Issue(c, t, lookup.Session!, request, now, remoteAddress);
        });
    }

    /// <summary>Refuses malformed requests before anything is read (gRPC InvalidArgument).</summary>
    public static void Validate(AiLeaseRequest request)
    {
        if (request.Mode is not (AiLeaseModes.Inject or AiLeaseModes.Proxy))
        {
            throw ValidationException.For("mode", "mode must be \"inject\" or \"proxy\".");
        }
        var providers = string.Join(", ", CredentialKinds.AiProviders.Order(StringComparer.Ordinal));
        if (string.IsNullOrEmpty(request.Provider))
        {
            if (string.IsNullOrEmpty(request.CredentialId))
            {
                throw ValidationException.For("provider", $"provider is required unless credential_id names a credential (one of {providers}).");
            }
        }
        else if (!CredentialKinds.AiProviders.Contains(request.Provider))
        {
            throw ValidationException.For("provider", $"provider must be one of {providers}.");
        }
        if (request.CredentialId is { Length: > MaxCredentialIdLength })
        {
            throw ValidationException.For("credential_id", "credential_id is too long.");
        }
    }

    private AiLeaseOutcome Issue(DbConnection c, DbTransaction t, SessionContext session, AiLeaseRequest request, DateTimeOffset now, string? remoteAddress)
    {
        var matched = new AiLeaseOutcome(SessionCheck.Valid);
        AuditEntry Entry(string action, string outcome, string? credentialId) => new(action, outcome)
        {
            Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, CredentialId = credentialId, RemoteAddress = remoteAddress,
        };
        var credential = Choose(c, t, session, request, now);
        if (credential is null)
        {
            if (!string.IsNullOrEmpty(request.CredentialId))
            {
                // Answered like an unknown id (ids can't be probed), but left in the trail.
                audit.Append(c, t, Entry(AuditActions.LeaseIssue, AuditOutcomes.Denied, null) with
                {
                    Detail = $"named credential is not a live ai credential of this workspace's owner (requested provider {Or(request.Provider)})",
                });
            }
            return matched;
        }

        var destination = AiProviderEndpoints.Destination(credential.Provider, credential.Url);
        if (destination is not { } hostPort || !HostAllowList.TryParse(session.AllowedHosts, out var allowList, out _)
            || !allowList.Allows(hostPort.Host, hostPort.Port))
        {
            audit.Append(c, t, Entry(AuditActions.LeaseIssue, AuditOutcomes.Denied, credential.Id) with
            {
                Detail = $"ai {credential.Provider}: host {(destination is { } d ? $"{d.Host}:{d.Port}" : "(unparseable base URL)")} is not allowed for this workspace",
            });
            // An unparseable stored base URL is an integrity problem, not a policy the admin can change.
            return destination is { } excluded
                ? matched with { ExcludedByPolicy = new PolicyExclusion(credential.Id, credential.Provider, $"{excluded.Host}:{excluded.Port}") }
                : matched;
        }

        if (request.Mode == AiLeaseModes.Inject && credential.Delivery == CredentialDelivery.Proxy)
        {
            audit.Append(c, t, Entry(AuditActions.LeaseIssue, AuditOutcomes.Denied, credential.Id) with
            {
                Detail = $"ai {credential.Provider}: the credential is proxy-only; mode inject refused",
            });
            return matched with { ProxyOnly = credential.Id };
        }

        var leaseId = OpaqueToken.NewId("lease_");
        var use = new CredentialUse(credential.Id, session.UserId, session.WorkspaceId, leaseId, remoteAddress);
        var quota = MonthlyQuota.Of(credential, now);
        if (quota.IsReached)
        {
            usage.AuditRefusal(c, t, use, quota, $"ai {credential.Provider} mode {request.Mode}");
            return matched with { LimitReached = new LimitRefusal(credential.Id, quota) };
        }

        string secret;
        try
        {
            secret = Encoding.UTF8.GetString(keyring.Open(credential.Sealed, credential.Context));
        }
        catch (SecretIntegrityException)
        {
            // Edited in the database (e.g. its base URL or provider): refuse it and leave a trace (rule a).
            audit.Append(c, t, Entry(AuditActions.CredentialIntegrity, AuditOutcomes.Failure, credential.Id) with
            {
                Actor = "broker", Detail = "stored secret failed its integrity check; not issued",
            });
            return matched;
        }

        var expiresAt = now + options.LeaseLifetime;
        if (credential.ExpiresAt is { } credentialExpiry && credentialExpiry < expiresAt)
        {
            expiresAt = credentialExpiry;
        }
        if (request.Mode == AiLeaseModes.Inject)
        {
            // The key leaves the sidecar's hands: that is a use. In proxy mode each request is a use, charged when granted.
            usage.Record(c, t, use, 1, 0, 0, now);
        }
        var lease = new LeaseRecord(leaseId, session.WorkspaceId, session.SessionId, credential.Id, credential.SecretVersion, now, expiresAt, null, null);
        LeaseStore.Insert(c, t, lease);
        var granted = request.Mode == AiLeaseModes.Proxy
            ? grants.Grant(c, t, credential, lease, use, AiRequestGranter.FirstBlock, newLease: true, now).Granted
            : 0;
        var how = request.Mode == AiLeaseModes.Inject
            ? "mode inject: the real key enters a process environment"
            : $"mode proxy: the key stays in the sidecar's proxy; {granted} requests granted and counted";
        audit.Append(c, t, Entry(AuditActions.LeaseIssue, AuditOutcomes.Success, credential.Id) with
        {
            LeaseId = lease.Id, Detail = $"ai {credential.Provider} {credential.Url ?? "(default base URL)"} {how}; until {expiresAt:O}",
        });
        return matched with { Lease = new IssuedAiLease(lease, credential.Provider, credential.Url, secret, granted) };
    }

    private static CredentialRecord? Choose(DbConnection c, DbTransaction t, SessionContext session, AiLeaseRequest request, DateTimeOffset now)
    {
        bool Live(CredentialRecord r) => r.ExpiresAt is null || r.ExpiresAt > now;
        if (string.IsNullOrEmpty(request.CredentialId))
        {
            return CredentialStore.ListAi(c, t, session.UserId, request.Provider).FirstOrDefault(Live);
        }
        var named = CredentialStore.Find(c, t, request.CredentialId);
        return named is not null && named.UserId == session.UserId && named.Kind == CredentialKinds.Ai && Live(named)
            && (string.IsNullOrEmpty(request.Provider) || named.Provider == request.Provider)
            ? named
            : null;
    }

    private static string Or(string? value) => string.IsNullOrEmpty(value) ? "(any)" : value;
}
