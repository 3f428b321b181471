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
/// Issues git leases. The session check, the credential match and the decryption run first, on a
/// pooled connection outside the write unit (in parallel across requests, off the single writer);
/// the write unit then counts the use only if all of that still holds (<see cref="LeaseClaim"/>, one
/// statement) and writes the lease and its audit record. When anything changed, or the request
/// does not end in a lease (denied, no match, quota reached, integrity failure), the write unit
/// decides again from scratch. Either way a lease is issued only for a credential version that is
/// current at commit, and the secret is returned only after the audit record is durable (invariant 3).
/// </summary>
internal sealed class LeaseIssuer(Database database, WriteQueue writes, AuditChain audit, Keyring keyring, SessionService sessions, UsageRecorder usage,
    BrokerOptions options, TimeProvider time)
{
    public async Task<GitLeaseOutcome> IssueGitAsync(string? sessionToken, GitLeaseRequest request, string? remoteAddress)
    {
        var ready = await database.ReadAsync(c => Prepare(c, sessionToken, request, time.GetUtcNow()));
        return await writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            if (ready is not null && LeaseClaim.CountUseIfCurrent(c, t, sessionToken!, ready.Credential, now) is { } after)
            {
                var use = new CredentialUse(ready.Credential.Id, ready.Session.UserId, ready.Session.WorkspaceId, OpaqueToken.NewId("lease_"), remoteAddress);
                usage.Added(c, t, use, 1, after, now);
                return new GitLeaseOutcome(SessionCheck.Valid, Grant(c, t, ready.Session, ready.Target, ready.Credential, ready.Secret, use, now, remoteAddress));
            }
            var lookup = sessions.CheckWithin(c, t, sessionToken, now, remoteAddress);
            if (lookup.Check != SessionCheck.Valid)
            {
                return new GitLeaseOutcome(lookup.Check, null);
            }
            return new GitLeaseOutcome(SessionCheck.Valid, Issue(c, t, lookup.Session!, request, now, remoteAddress));
        });
    }

    /// <summary>What a successful issue needs, read without writing; null when the request would not plainly succeed.</summary>
    private Ready? Prepare(DbConnection c, string? sessionToken, GitLeaseRequest request, DateTimeOffset now)
    {
        var lookup = SessionStore.Authenticate(c, null, sessionToken, now);
        if (lookup.Check != SessionCheck.Valid || !GitRequestTarget.TryCreate(request.Protocol, request.Host, request.Path, out var target)
            || !HostAllowList.TryParse(lookup.Session!.AllowedHosts, out var allowList, out _) || !allowList.Allows(target.Host, target.Port))
        {
            return null;
        }
        var credential = FindCredential(c, null, lookup.Session.UserId, target, request, now);
        if (credential is null)
        {
            return null;
        }
        try
        {
            return new Ready(lookup.Session, target, credential, Encoding.UTF8.GetString(keyring.Open(credential.Sealed, credential.Context)));
        }
        catch (SecretIntegrityException)
        {
            return null;
        }
    }

    private static GitCredentialRow? FindCredential(DbConnection c, DbTransaction? t, string userId, GitRequestTarget target, GitLeaseRequest request,
        DateTimeOffset now)
    {
        var candidates = CredentialStore.FindGitCandidates(c, t, userId, target.Scheme, target.Host, target.Port)
            .Where(candidate => candidate.ExpiresAt is null || candidate.ExpiresAt > now);
        var requestedUsername = string.IsNullOrEmpty(request.Username) ? null : request.Username;
        return GitCredentialMatcher.FindBest(candidates, r => r.Destination, r => r.Username, target, requestedUsername);
    }

    private sealed record Ready(SessionContext Session, GitRequestTarget Target, GitCredentialRow Credential, string Secret)
    {
        // Holds a secret: never print it.
        public override string ToString() => nameof(Ready);
    }

    private static AuditEntry Entry(SessionContext session, string? remoteAddress, string outcome) => new(AuditActions.LeaseIssue, outcome)
    {
        Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, RemoteAddress = remoteAddress,
    };

    private IssuedGitLease? Issue(DbConnection c, DbTransaction t, SessionContext session, GitLeaseRequest request, DateTimeOffset now, string? remoteAddress)
    {
        // Malformed or ambiguous requests match nothing (rules b and c).
        if (!GitRequestTarget.TryCreate(request.Protocol, request.Host, request.Path, out var target))
        {
            return null;
        }
        if (!HostAllowList.TryParse(session.AllowedHosts, out var allowList, out _) || !allowList.Allows(target.Host, target.Port))
        {
            audit.Append(c, t, Entry(session, remoteAddress, AuditOutcomes.Denied) with { Detail = $"host {target.Host}:{target.Port} is not allowed for this workspace" });
            return null;
        }

        var credential = FindCredential(c, t, session.UserId, target, request, now);
        if (credential is null)
        {
            return null;
        }
        var use = new CredentialUse(credential.Id, session.UserId, session.WorkspaceId, OpaqueToken.NewId("lease_"), remoteAddress);
        if (CredentialUsageStore.Find(c, t, credential.Id, now) is { IsReached: true } quota)
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

        // Each issued git lease is one use; reaching the limit ends earlier leases before this one is written.
        usage.Record(c, t, use, 1, 0, 0, now);
        return Grant(c, t, session, target, credential, secret, use, now, remoteAddress);
    }

    /// <summary>Writes the lease and its audit record, once its use is counted.</summary>
    private IssuedGitLease Grant(DbConnection c, DbTransaction t, SessionContext session, GitRequestTarget target, GitCredentialRow credential, string secret,
        CredentialUse use, DateTimeOffset now, string? remoteAddress)
    {
        var expiresAt = now + options.LeaseLifetime;
        if (credential.ExpiresAt is { } credentialExpiry && credentialExpiry < expiresAt)
        {
            expiresAt = credentialExpiry;
        }
        var lease = new LeaseRecord(use.LeaseId!, session.WorkspaceId, session.SessionId, credential.Id, credential.SecretVersion, now, expiresAt, null, null);
        LeaseStore.Insert(c, t, lease);
        audit.Append(c, t, Entry(session, remoteAddress, AuditOutcomes.Success) with
        {
            CredentialId = credential.Id, LeaseId = lease.Id, Detail = $"{target.Scheme}://{target.Host}:{target.Port} until {expiresAt:O}",
        });
        return new IssuedGitLease(lease, credential.Username, secret);
    }
}
