using System.Text;
using System.Data.Common;
using Xares.Broker.Audit;
using Xares.Broker.Credentials.Matching;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Minted;
using Xares.Broker.Security;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Vault;
using Xares.GitTargets;

namespace Xares.Broker.Leases;

/// <summary>
/// Issues git leases. The decision runs in one write unit: the session is re-checked, the
/// credential chosen and its secret version read, the lease and its audit record written — so
/// a lease is issued only for a credential version that is current at commit, and the secret
/// is returned only after the audit record is durable (invariant 3).
/// On PostgreSQL the session check, the match (session and candidates read by one statement) and
/// the decryption run first, on a pooled connection outside the write unit (in parallel across
/// requests, off the replicas' shared write lock); the write unit then only claims the use with
/// one conditional statement that re-checks all of it (<see cref="LeaseClaim"/>), held back with
/// the batch's other writes, so a lease costs the lock no round trip of its own. When the request would not plainly end in a
/// lease, or the claim finds something changed, the write unit decides from scratch as above.
/// SQLite keeps the plain path: its writer is in-process, and the extra reads measured slower.
/// </summary>
internal sealed class LeaseIssuer(Database database, WriteQueue writes, AuditChain audit, Keyring keyring, SessionService sessions, UsageRecorder usage,
    MintedGitSource minted, Connections.ConnectionGitSource connections, BrokerOptions options, TimeProvider time)
{
    public async Task<GitLeaseOutcome> IssueGitAsync(string? sessionToken, GitLeaseRequest request, string? remoteAddress)
    {
        // Minted tokens come first (a repository-scoped host never falls back to stored tokens); null leaves the request to stored credentials.
        if (await minted.TryIssueAsync(sessionToken, request, remoteAddress) is { } mintedOutcome)
        {
            return mintedOutcome;
        }
        // Then the owner's OAuth connection for this host; null leaves the request to stored credentials.
        if (await connections.TryIssueAsync(sessionToken, request, remoteAddress) is { } connectionOutcome)
        {
            return connectionOutcome;
        }
        var plan = database.Kind == DatabaseKind.Postgres ? await database.ReadAsync(c => Plan(c, sessionToken, request, time.GetUtcNow())) : null;
        return await writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            if (plan is { Stale: false } && NewLease(OpaqueToken.NewId("lease_"), plan.Session, plan.Credential, now) is var planned
                && LeaseClaim.InsertLeaseIfCurrent(c, t, sessionToken!, plan.Credential, planned, () => plan.Stale = true))
            {
                CredentialUsageStore.AddUnlimited(c, t, plan.Credential.Id, 1, now);
                return new GitLeaseOutcome(SessionCheck.Valid, Granted(c, t, plan.Session, plan.Target, plan.Credential, plan.Secret, planned, remoteAddress));
            }
            var lookup = sessions.CheckWithin(c, t, sessionToken, now, remoteAddress);
            if (lookup.Check != SessionCheck.Valid)
            {
                return new GitLeaseOutcome(lookup.Check, null);
            }
            return new GitLeaseOutcome(SessionCheck.Valid, Issue(c, t, lookup.Session!, request, now, remoteAddress));
        });
    }

    /// <summary>What a plain successful issue needs, read without writing; null when the request would not plainly end in a lease.</summary>
    private LeasePlan? Plan(DbConnection c, string? sessionToken, GitLeaseRequest request, DateTimeOffset now)
    {
        if (!GitRequestTarget.TryCreate(request.Protocol, request.Host, request.Path, out var target))
        {
            return null;
        }
        var (lookup, candidates) = CredentialStore.AuthenticateWithGitCandidates(c, sessionToken, now, target.Scheme, target.Host, target.Port);
        if (lookup.Check != SessionCheck.Valid
            || !HostAllowList.TryParse(lookup.Session!.AllowedHosts, out var allowList, out _) || !allowList.Allows(target.Host, target.Port))
        {
            return null;
        }
        var credential = Best(candidates, target, request, now);
        if (credential is not { MonthlyLimit: null })
        {
            return null;
        }
        try
        {
            return new LeasePlan(lookup.Session, target, credential, Encoding.UTF8.GetString(keyring.Open(credential.Sealed, credential.Context)));
        }
        catch (SecretIntegrityException)
        {
            return null;
        }
    }

    /// <summary>A lease decided outside the write unit; <see cref="Stale"/> once its claim found the decision out of date.</summary>
    private sealed class LeasePlan(SessionContext session, GitRequestTarget target, GitCredentialRow credential, string secret)
    {
        public SessionContext Session { get; } = session;

        public GitRequestTarget Target { get; } = target;

        public GitCredentialRow Credential { get; } = credential;

        public string Secret { get; } = secret;

        public bool Stale { get; set; }
    }

    private static GitCredentialRow? Best(IEnumerable<GitCredentialRow> candidates, GitRequestTarget target, GitLeaseRequest request, DateTimeOffset now)
    {
        var requestedUsername = string.IsNullOrEmpty(request.Username) ? null : request.Username;
        return GitCredentialMatcher.FindBest(candidates.Where(candidate => candidate.ExpiresAt is null || candidate.ExpiresAt > now),
            r => r.Destination, r => r.Username, target, requestedUsername);
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

        var credential = Best(CredentialStore.FindGitCandidates(c, t, session.UserId, target.Scheme, target.Host, target.Port), target, request, now);
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

        // Each issued git lease is one use; reaching the limit ends earlier leases before this one is written.
        usage.RecordLease(c, t, use, quota, now);
        var lease = NewLease(leaseId, session, credential, now);
        LeaseStore.Insert(c, t, lease);
        return Granted(c, t, session, target, credential, secret, lease, remoteAddress);
    }

    /// <summary>A lease of the configured lifetime, never past the credential's own expiry.</summary>
    private LeaseRecord NewLease(string id, SessionContext session, GitCredentialRow credential, DateTimeOffset now)
    {
        var expiresAt = now + options.LeaseLifetime;
        if (credential.ExpiresAt is { } credentialExpiry && credentialExpiry < expiresAt)
        {
            expiresAt = credentialExpiry;
        }
        return new LeaseRecord(id, session.WorkspaceId, session.SessionId, credential.Id, credential.SecretVersion, now, expiresAt,
            null, null);
    }

    /// <summary>Audits a lease whose row and use are written; the secret leaves only after this commits.</summary>
    private IssuedGitLease Granted(DbConnection c, DbTransaction t, SessionContext session, GitRequestTarget target, GitCredentialRow credential,
        string secret, LeaseRecord lease, string? remoteAddress)
    {
        audit.Append(c, t, Entry(session, remoteAddress, AuditOutcomes.Success) with
        {
            CredentialId = credential.Id, LeaseId = lease.Id, Detail = $"{target.Scheme}://{target.Host}:{target.Port} until {lease.ExpiresAt:O}",
        });
        return new IssuedGitLease(lease, credential.Username, secret);
    }
}
