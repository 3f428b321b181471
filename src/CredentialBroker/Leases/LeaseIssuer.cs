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
/// Issues git leases. One read (<see cref="GitLeaseRoute"/>, the session authenticated once)
/// picks the source: a minted GitHub App token on a repository-scoped host, the owner's OAuth
/// connection, or a stored credential. A stored credential's decision runs in one write unit:
/// the session is re-checked, the credential chosen and its secret version read, the lease and
/// its audit record written — so a lease is issued only for a credential version that is current
/// at commit, and the secret is returned only after the audit record is durable (invariant 3).
/// On PostgreSQL the route read also reads the candidates (one statement with the session), and
/// the match and the decryption run outside the write unit (in parallel across requests, off the
/// replicas' shared write lock); the write unit then only claims the use with one conditional
/// statement that re-checks all of it (<see cref="LeaseClaim"/>), held back with the batch's other
/// writes, so a lease costs the lock no round trip of its own. When the request would not plainly
/// end in a lease, or the claim finds something changed, the write unit decides from scratch as
/// above. SQLite decides in the write unit alone: its writer is in-process, and planning measured slower.
/// </summary>
internal sealed class LeaseIssuer(Database database, WriteQueue writes, AuditChain audit, Keyring keyring, SessionService sessions, UsageRecorder usage,
    MintedGitSource minted, Connections.ConnectionGitSource connections, BrokerOptions options, TimeProvider time)
{
    public async Task<GitLeaseOutcome> IssueGitAsync(string? sessionToken, GitLeaseRequest request, string? remoteAddress)
    {
        var plan = GitRequestTarget.TryCreate(request.Protocol, request.Host, request.Path, out var target)
            ? await RouteAsync(sessionToken, request, target, remoteAddress)
            : null;
        if (plan?.Outcome is { } routed)
        {
            return routed;
        }
        return await writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            if (plan?.Lease is { Stale: false } lease && NewLease(OpaqueToken.NewId("lease_"), lease.Session, lease.Credential, now) is var planned
                && LeaseClaim.InsertLeaseIfCurrent(c, t, sessionToken!, lease.Credential, planned, () => lease.Stale = true))
            {
                CredentialUsageStore.AddUnlimited(c, t, lease.Credential.Id, 1, now);
                return new GitLeaseOutcome(SessionCheck.Valid, Granted(c, t, lease.Session, lease.Target, lease.Credential, lease.Secret, planned, remoteAddress));
            }
            var lookup = sessions.CheckWithin(c, t, sessionToken, now, remoteAddress);
            if (lookup.Check != SessionCheck.Valid)
            {
                return new GitLeaseOutcome(lookup.Check, null);
            }
            return new GitLeaseOutcome(SessionCheck.Valid, Issue(c, t, lookup.Session!, request, now, remoteAddress));
        });
    }

    /// <summary>
    /// One read decides the source: minted tokens first (a repository-scoped host never falls back to
    /// stored tokens), then the owner's OAuth connection for the host, then stored credentials — for
    /// which PostgreSQL plans the lease from the same read. Null, or a route without an outcome or a
    /// plan, leaves the decision to the write unit (session problems are answered and audited there).
    /// </summary>
    private async Task<GitRoutePlan?> RouteAsync(string? sessionToken, GitLeaseRequest request, GitRequestTarget target, string? remoteAddress)
    {
        var route = await database.ReadAsync(c => GitLeaseRoute.Read(c, database.Kind, sessionToken, target, time.GetUtcNow()));
        if (route.Lookup is not { Check: SessionCheck.Valid, Session: { } session })
        {
            return null;
        }
        if (route.Grants.Count > 0 && await minted.TryIssueAsync(sessionToken, session, route.Grants, route.App, target, remoteAddress) is { } mintedOutcome)
        {
            return new GitRoutePlan(mintedOutcome, null);
        }
        if (route.Provider is { } provider
            && await connections.TryIssueAsync(sessionToken, session, provider, route.Connection, target, request, remoteAddress) is { } connectionOutcome)
        {
            return new GitRoutePlan(connectionOutcome, null);
        }
        return database.Kind == DatabaseKind.Postgres ? new GitRoutePlan(null, Plan(session, route.Candidates, target, request, time.GetUtcNow())) : null;
    }

    private sealed record GitRoutePlan(GitLeaseOutcome? Outcome, LeasePlan? Lease);

    /// <summary>What a plain successful stored issue needs, read without writing; null when the request would not plainly end in a lease.</summary>
    private LeasePlan? Plan(SessionContext session, List<GitCredentialRow> candidates, GitRequestTarget target, GitLeaseRequest request, DateTimeOffset now)
    {
        if (!HostAllowList.TryParse(session.AllowedHosts, out var allowList, out _) || !allowList.Allows(target.Host, target.Port))
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
            return new LeasePlan(session, target, credential, Encoding.UTF8.GetString(keyring.Open(credential.Sealed, credential.Context)));
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
