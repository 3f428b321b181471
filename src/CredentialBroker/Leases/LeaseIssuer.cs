using System.Text;
using System.Data.Common;
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
/// Issues git leases. Everything happens in one write unit: the session is re-checked, the
/// credential chosen and its secret version read, the lease and its audit record written — so
/// a lease is issued only for a credential version that is current at commit, and the secret
/// is returned only after the audit record is durable (invariant 3).
/// </summary>
internal sealed class LeaseIssuer(WriteQueue writes, AuditChain audit, Keyring keyring, SessionService sessions, UsageRecorder usage, BrokerOptions options,
    TimeProvider time)
{
    public Task<GitLeaseOutcome> IssueGitAsync(string? sessionToken, GitLeaseRequest request, string? remoteAddress) =>
        writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            var lookup = sessions.CheckWithin(c, t, sessionToken, now, remoteAddress);
            if (lookup.Check != SessionCheck.Valid)
            {
                return new GitLeaseOutcome(lookup.Check, null);
            }
            return new GitLeaseOutcome(SessionCheck.Valid, Issue(c, t, lookup.Session!, request, now, remoteAddress));
        });

    private IssuedGitLease? Issue(DbConnection c, DbTransaction t, SessionContext session, GitLeaseRequest request, DateTimeOffset now, string? remoteAddress)
    {
        // Malformed or ambiguous requests match nothing (rules b and c).
        if (!GitRequestTarget.TryCreate(request.Protocol, request.Host, request.Path, out var target))
        {
            return null;
        }
        AuditEntry Entry(string outcome) => new(AuditActions.LeaseIssue, outcome)
        {
            Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, RemoteAddress = remoteAddress,
        };
        if (!HostAllowList.TryParse(session.AllowedHosts, out var allowList, out _) || !allowList.Allows(target.Host, target.Port))
        {
            audit.Append(c, t, Entry(AuditOutcomes.Denied) with { Detail = $"host {target.Host}:{target.Port} is not allowed for this workspace" });
            return null;
        }

        var candidates = CredentialStore.FindGitCandidates(c, t, session.UserId, target.Scheme, target.Host, target.Port)
            .Where(candidate => candidate.ExpiresAt is null || candidate.ExpiresAt > now);
        var requestedUsername = string.IsNullOrEmpty(request.Username) ? null : request.Username;
        var credential = GitCredentialMatcher.FindBest(candidates, r => r.Destination, r => r.Username, target, requestedUsername);
        if (credential is null)
        {
            return null;
        }
        var leaseId = OpaqueToken.NewId("lease_");
        var use = new CredentialUse(credential.Id, session.UserId, session.WorkspaceId, leaseId, remoteAddress);
        var quota = credential.QuotaAt(now);
        if (quota.IsReached)
        {
            usage.AuditRefusal(c, t, use, quota, $"{target.Scheme}://{target.Host}:{target.Port}");
            return null;
        }

        string secret;
        try
        {
            secret = Encoding.UTF8.GetString(keyring.Open(credential.Sealed, credential.Context));
        }
        catch (SecretIntegrityException)
        {
            // Edited in the database (e.g. its destination): refuse it and leave a trace (rule a).
            audit.Append(c, t, new AuditEntry(AuditActions.CredentialIntegrity, AuditOutcomes.Failure)
            {
                Actor = "broker", UserId = session.UserId, WorkspaceId = session.WorkspaceId, CredentialId = credential.Id, RemoteAddress = remoteAddress,
                Detail = "stored secret failed its integrity check; not issued",
            });
            return null;
        }

        var expiresAt = now + options.LeaseLifetime;
        if (credential.ExpiresAt is { } credentialExpiry && credentialExpiry < expiresAt)
        {
            expiresAt = credentialExpiry;
        }
        // Each issued git lease is one use; reaching the limit ends earlier leases before this one is written.
        usage.RecordLease(c, t, use, quota, now);
        var lease = new LeaseRecord(leaseId, session.WorkspaceId, session.SessionId, credential.Id, credential.SecretVersion, now, expiresAt, null, null);
        LeaseStore.Insert(c, t, lease);
        audit.Append(c, t, Entry(AuditOutcomes.Success) with
        {
            CredentialId = credential.Id, LeaseId = lease.Id, Detail = $"{target.Scheme}://{target.Host}:{target.Port} until {expiresAt:O}",
        });
        return new IssuedGitLease(lease, credential.Username, secret);
    }
}
