using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Xares.Broker.Audit;
using Xares.Broker.Credentials.Matching;
using Xares.Broker.Hosting;
using Xares.Broker.Leases;
using Xares.Broker.Security;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Vault;
using Xares.Broker.Workspaces;
using Xares.GitTargets;

namespace Xares.Broker.Minted;

/// <summary>
/// The minted sources of git leases, asked before stored credentials (<see cref="LeaseIssuer"/>).
/// A host on which the workspace names repositories is repository-scoped: a named repository gets
/// a GitHub App installation token narrowed to the workspace's repositories of that owner with
/// the same access; any other repository there gets nothing. Other hosts are left to stored
/// credentials (null). A token is reused for the same workspace and scope until
/// <see cref="BrokerOptions.MintedReuseMargin"/> before it expires; concurrent fills of one scope
/// mint once (single flight in this process, and a <see cref="MintClaim"/> across replicas). The call to GitHub happens outside the write unit;
/// the token row, and then each lease with its audit record, are written in their own units, so
/// the token leaves the broker only after its lease's audit record is durable (invariant 3).
/// </summary>
internal sealed partial class MintedGitSource(Database database, WriteQueue writes, AuditChain audit, Keyring keyring, SessionService sessions,
    GitHubAppRegistry registry, GitHubAppClient github, BrokerOptions options, TimeProvider time, ILogger<MintedGitSource> logger)
{
    public const string Username = "x-access-token";
    private static readonly TimeSpan InstallationMemory = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, Lazy<Task<(MintedToken Row, string Secret)?>>> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (long Id, DateTimeOffset Until)> _installations = new(StringComparer.Ordinal);
    private readonly string _claimHolder = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, (int Count, DateTimeOffset RetryAt, string Reason)> _failures = new(StringComparer.Ordinal);

    /// <summary>
    /// The outcome (a lease, or nothing) for a fill on a host where the workspace names repositories
    /// (<paramref name="grants"/>, read with <paramref name="app"/> by <see cref="GitLeaseRoute"/>);
    /// null when the host is not allowed, which the stored path denies and audits.
    /// </summary>
    public async Task<GitLeaseOutcome?> TryIssueAsync(string? sessionToken, SessionContext session, IReadOnlyList<RepositoryGrant> grants,
        GitHubAppRecord? app, GitRequestTarget target, string? remoteAddress)
    {
        if (!HostAllowList.TryParse(session.AllowedHosts, out var allowList, out _) || !allowList.Allows(target.Host, target.Port))
        {
            return null;
        }
        var where = $"{target.Scheme}://{target.Host}:{target.Port}";
        if (!RepositoryGrant.TryReadPath(target.PathSegments, out var owner, out var repository))
        {
            return await DeniedAsync(session, remoteAddress, target.HasPath
                ? $"{where}: the path is not owner/repo; this host is repository-scoped for the workspace"
                : $"{where}: git sent no repository path (credential.useHttpPath); this host is repository-scoped for the workspace");
        }
        var grant = grants.FirstOrDefault(g => g.Covers(target.Scheme, target.Host, target.Port, owner, repository));
        if (grant is null)
        {
            return await DeniedAsync(session, remoteAddress, $"{where}/{owner}/{repository} is not a repository of this workspace's policy");
        }
        if (app is null)
        {
            return await FailedAsync(session, null, remoteAddress, $"{where}/{grant.Name}: no GitHub App is registered for this git host");
        }

        // One token per owner and access: every repository of that owner the policy names with this access.
        var repositories = grants
            .Where(g => g.Access == grant.Access && string.Equals(g.Owner, owner, StringComparison.OrdinalIgnoreCase))
            .Select(g => g.Repository).OrderBy(r => r, StringComparer.OrdinalIgnoreCase).ToList();
        var minted = await ObtainAsync(session, app, grant.Owner, repositories, grant.Access, remoteAddress);
        if (minted is not { } token)
        {
            return new GitLeaseOutcome(SessionCheck.Valid, null);
        }
        return await writes.ExecuteAsync((c, t) =>
        {
            var issuedAt = time.GetUtcNow();
            var lookup = sessions.CheckWithin(c, t, sessionToken, issuedAt, remoteAddress);
            if (lookup.Check != SessionCheck.Valid)
            {
                return new GitLeaseOutcome(lookup.Check, null);
            }
            // Revoked meanwhile (the policy narrowed, the lease's workspace or the app went): nothing is issued.
            if (MintedTokenStore.Find(c, t, token.Row.Id) is not { RevokedAt: null } current || current.ExpiresAt <= issuedAt)
            {
                return new GitLeaseOutcome(SessionCheck.Valid, null);
            }
            var expiresAt = issuedAt + options.LeaseLifetime < current.ExpiresAt ? issuedAt + options.LeaseLifetime : current.ExpiresAt;
            var lease = new LeaseRecord(OpaqueToken.NewId("lease_"), session.WorkspaceId, lookup.Session!.SessionId, current.Id, 1, issuedAt, expiresAt, null, null);
            LeaseStore.Insert(c, t, lease);
            audit.Append(c, t, new AuditEntry(AuditActions.LeaseIssue, AuditOutcomes.Success)
            {
                Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, CredentialId = current.Id, LeaseId = lease.Id,
                RemoteAddress = remoteAddress,
                Detail = $"{where}/{owner}/{repository} with GitHub App {app.Id} installation token (contents: {current.Access}) until {lease.ExpiresAt:O}",
            });
            return new GitLeaseOutcome(SessionCheck.Valid, new IssuedGitLease(lease, Username, token.Secret));
        });
    }

    /// <summary>A reusable token of this scope, or a new one; null when minting failed (audited).</summary>
    private async Task<(MintedToken Row, string Secret)?> ObtainAsync(SessionContext session, GitHubAppRecord app, string owner,
        IReadOnlyList<string> repositories, string access, string? remoteAddress)
    {
        var installation = app.InstallationFor(owner) ?? Remembered(app, owner);
        var key = $"{session.WorkspaceId}|{app.Id}|{owner.ToLowerInvariant()}|{access}|{string.Join(',', repositories.Select(r => r.ToLowerInvariant()))}";
        var flight = _inFlight.GetOrAdd(key, k => new Lazy<Task<(MintedToken, string)?>>(() => ObtainOnceAsync(k, session, app, owner, installation, repositories, access, remoteAddress)));
        try
        {
            return await flight.Value;
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<(MintedToken, string)?>>>(key, flight));
        }
    }

    private async Task<(MintedToken Row, string Secret)?> ObtainOnceAsync(string flightKey, SessionContext session, GitHubAppRecord app, string owner,
        long? knownInstallation, IReadOnlyList<string> repositories, string access, string? remoteAddress)
    {
        var reuseUntil = time.GetUtcNow() + options.MintedReuseMargin;
        var reusable = await database.ReadAsync(c => FindReusable(c, session.WorkspaceId, app.Id, owner, access, repositories, reuseUntil));
        // One that fails its integrity check (edited in the database) is not used: a new one is minted.
        if (reusable is not null && TryOpen(reusable) is { } reused)
        {
            return reused;
        }
        // A scope whose last mint failed is not retried at every git call: GitHub is given time (2 s doubling to 1 min).
        if (_failures.TryGetValue(flightKey, out var failed) && failed.RetryAt > time.GetUtcNow())
        {
            await FailedAsync(session, app, remoteAddress,
                $"not retried before {failed.RetryAt:O} after {failed.Count} failed attempt(s); last: {failed.Reason}");
            return null;
        }
        var failure = new StrongBox<string?>();
        var result = await ClaimAndMintAsync(flightKey, session, app, owner, knownInstallation, repositories, access, remoteAddress, failure);
        if (result is null)
        {
            var reason = failure.Value ?? "minting failed";
            _failures.AddOrUpdate(flightKey,
                _ => (1, time.GetUtcNow() + FailureBackoff(1), reason),
                (_, previous) => (previous.Count + 1, time.GetUtcNow() + FailureBackoff(previous.Count + 1), reason));
        }
        else
        {
            _failures.TryRemove(flightKey, out _);
        }
        return result;
    }

    private static TimeSpan FailureBackoff(int failures) => TimeSpan.FromSeconds(Math.Min(60, 2 * Math.Pow(2, failures - 1)));

    private async Task<(MintedToken Row, string Secret)?> ClaimAndMintAsync(string flightKey, SessionContext session, GitHubAppRecord app, string owner,
        long? knownInstallation, IReadOnlyList<string> repositories, string access, string? remoteAddress, StrongBox<string?> failure)
    {
        // Across replicas: one claims the scope and mints; the others wait for the token it stores.
        var claimed = await MintClaim.TryTakeAsync(writes, flightKey, _claimHolder, time);
        if (!claimed)
        {
            var deadline = time.GetUtcNow() + MintClaim.WaitForOther;
            while (time.GetUtcNow() < deadline)
            {
                await Task.Delay(MintClaim.PollInterval, time);
                if (await database.ReadAsync(c => FindReusable(c, session.WorkspaceId, app.Id, owner, access, repositories, time.GetUtcNow() + options.MintedReuseMargin))
                    is { } stored && TryOpen(stored) is { } opened)
                {
                    return opened;
                }
            }
            // The other replica failed or is slow: mint here after all.
        }
        (MintedToken Row, string Secret)? minted = null;
        try
        {
            // A claim is released in the unit that stores the token (one write fewer per mint); on failure, here.
            minted = await MintAsync(session, app, owner, knownInstallation, repositories, access, remoteAddress, failure, claimed ? flightKey : null);
            return minted;
        }
        finally
        {
            if (claimed && minted is null)
            {
                await MintClaim.ReleaseAsync(writes, flightKey, _claimHolder);
            }
        }
    }

    private (MintedToken Row, string Secret)? TryOpen(MintedToken token)
    {
        try
        {
            return (token, Encoding.UTF8.GetString(keyring.Open(token.Sealed, token.Context)));
        }
        catch (SecretIntegrityException)
        {
            return null;
        }
    }

    /// <param name="failure">Receives why minting failed (the failure is audited here).</param>
    /// <param name="claimKey">The scope's claim this broker holds, released with the stored token; null when it holds none.</param>
    private async Task<(MintedToken Row, string Secret)?> MintAsync(SessionContext session, GitHubAppRecord app, string owner, long? knownInstallation,
        IReadOnlyList<string> repositories, string access, string? remoteAddress, StrongBox<string?> failure, string? claimKey)
    {
        using var key = registry.OpenKey(app);
        var installation = knownInstallation;
        if (installation is null)
        {
            var found = await github.FindInstallationAsync(app, key, owner, repositories[0], CancellationToken.None);
            if (found.Error is not null)
            {
                failure.Value = found.Error;
                await FailedAsync(session, app, remoteAddress, found.Error);
                return null;
            }
            installation = found.Value;
            _installations[InstallationKey(app, owner)] = (found.Value, time.GetUtcNow() + InstallationMemory);
        }
        var scopeKey = ScopeKey(app.Id, installation.Value, owner, access, repositories);
        var minted = await github.CreateInstallationTokenAsync(app, key, installation.Value, repositories, access, CancellationToken.None);
        if (minted.Value is not { } upstream)
        {
            // A remembered installation may be gone (app uninstalled): look it up again next time.
            _installations.TryRemove(InstallationKey(app, owner), out _);
            failure.Value = $"installation {installation.Value}: {minted.Error}";
            await FailedAsync(session, app, remoteAddress, failure.Value);
            return null;
        }
        var id = OpaqueToken.NewId(MintedToken.IdPrefix);
        var context = MintedToken.ContextFor(id, session.UserId, app.Id, app.GitUrl, scopeKey, session.WorkspaceId);
        var plaintext = Encoding.UTF8.GetBytes(upstream.Token);
        var row = new MintedToken(id, app.Id, session.WorkspaceId, session.UserId, scopeKey, installation.Value, app.GitUrl, owner, repositories, access,
            keyring.Seal(plaintext, context), time.GetUtcNow(), upstream.ExpiresAt, null);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(plaintext);
        await writes.ExecuteAsync((c, t) =>
        {
            MintedTokenStore.Insert(c, t, row);
            audit.Append(c, t, new AuditEntry(MintedAuditActions.Mint, AuditOutcomes.Success)
            {
                Actor = "broker", UserId = session.UserId, WorkspaceId = session.WorkspaceId, CredentialId = id, RemoteAddress = remoteAddress,
                Detail = $"GitHub App {app.Id} (app {app.AppId}) installation {installation.Value}: {owner}/{{{string.Join(',', repositories)}}} "
                    + $"contents: {access}, metadata: read; expires {upstream.ExpiresAt:O}",
            });
            if (claimKey is not null)
            {
                MintClaim.Release(c, t, claimKey, _claimHolder);
            }
        });
        MintedLog.Minted(logger, id, app.Id, session.WorkspaceId, upstream.ExpiresAt);
        return (row, upstream.Token);
    }

    // The scope key holds the installation id, which may not be known yet: match on the rest.
    private static MintedToken? FindReusable(System.Data.Common.DbConnection c, string workspaceId, string appId, string owner, string access,
        IReadOnlyList<string> repositories, DateTimeOffset usableUntil) =>
        MintedTokenStore.UsableForWorkspace(c, workspaceId, appId, usableUntil).FirstOrDefault(token => token.Access == access
            && string.Equals(token.Owner, owner, StringComparison.OrdinalIgnoreCase)
            && token.Repositories.SequenceEqual(repositories, StringComparer.OrdinalIgnoreCase));

    public static string ScopeKey(string appId, long installation, string owner, string access, IReadOnlyList<string> repositories) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{appId}|{installation}|{owner.ToLowerInvariant()}|contents:{access}|{string.Join(',', repositories.Select(r => r.ToLowerInvariant()))}");

    private long? Remembered(GitHubAppRecord app, string owner) =>
        _installations.TryGetValue(InstallationKey(app, owner), out var known) && known.Until > time.GetUtcNow() ? known.Id : null;

    private static string InstallationKey(GitHubAppRecord app, string owner) => $"{app.Id}|{owner.ToLowerInvariant()}";

    private Task<GitLeaseOutcome?> DeniedAsync(SessionContext session, string? remoteAddress, string detail) =>
        writes.ExecuteAsync<GitLeaseOutcome?>((c, t) =>
        {
            audit.Append(c, t, new AuditEntry(AuditActions.LeaseIssue, AuditOutcomes.Denied)
            {
                Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, RemoteAddress = remoteAddress, Detail = detail,
            });
            return new GitLeaseOutcome(SessionCheck.Valid, null);
        });

    private async Task<GitLeaseOutcome?> FailedAsync(SessionContext session, GitHubAppRecord? app, string? remoteAddress, string reason)
    {
        MintedLog.MintFailed(logger, app?.Id ?? "-", session.WorkspaceId, reason);
        return await writes.ExecuteAsync<GitLeaseOutcome?>((c, t) =>
        {
            audit.Append(c, t, new AuditEntry(MintedAuditActions.Mint, AuditOutcomes.Failure)
            {
                Actor = "broker", UserId = session.UserId, WorkspaceId = session.WorkspaceId, CredentialId = app?.Id, RemoteAddress = remoteAddress,
                Detail = (app is null ? "" : $"GitHub App {app.Id} (app {app.AppId}): ") + reason + "; no token minted, git gets no credential",
            });
            return new GitLeaseOutcome(SessionCheck.Valid, null);
        });
    }
}
