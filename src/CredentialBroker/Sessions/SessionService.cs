using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.Revocations;
using Xares.Broker.Storage;
using Xares.Broker.Workspaces;

namespace Xares.Broker.Sessions;

/// <summary>Opening, refreshing and checking sidecar sessions: a superseded token presented again revokes the workspace.</summary>
internal sealed class SessionService(Database database, WriteQueue writes, AuditChain audit, RevocationLog revocations, WorkspaceLifecycle workspaces,
    Leases.LeaseRevocation leases, BrokerOptions options, TimeProvider time)
{
    public sealed record Grant(string Token, SessionContext Session, long RevocationSequence)
    {
        public override string ToString() => $"{nameof(Grant)} {{ Token = [redacted], Session = {Session}, RevocationSequence = {RevocationSequence} }}";
    }

    /// <summary>Redeems a bootstrap token; null when it is unknown, used, expired, or its workspace is revoked.</summary>
    public Task<Grant?> OpenAsync(string bootstrapToken, string? remoteAddress) =>
        writes.ExecuteAsync<Grant?>((c, t) =>
        {
            var now = time.GetUtcNow();
            var workspaceId = Security.OpaqueToken.HasShape(bootstrapToken, Security.OpaqueToken.BootstrapPrefix)
                ? BootstrapTokens.Redeem(c, t, bootstrapToken, now)
                : null;
            var workspace = workspaceId is null ? null : WorkspaceStore.Find(c, t, workspaceId);
            if (workspace is null || workspace.RevokedAt is not null)
            {
                audit.Append(c, t, new AuditEntry(AuditActions.SessionOpen, AuditOutcomes.Denied)
                {
                    Actor = "sidecar", WorkspaceId = workspaceId, RemoteAddress = remoteAddress, Detail = "bootstrap token unknown, used, expired or revoked",
                });
                return null;
            }

            // A new bootstrap replaces whatever session the workspace had (e.g. a restarted container).
            foreach (var oldSession in SessionStore.RevokeForWorkspace(c, t, workspace.Id, now))
            {
                revocations.Append(c, t, RevocationKinds.Session, oldSession, workspaceId: workspace.Id);
            }
            leases.RevokeForWorkspace(c, t, workspace.Id, now);
            var sessionExpires = now + options.SessionMaxLifetime;
            var sessionId = SessionStore.Open(c, t, workspace.Id, now, sessionExpires, remoteAddress);
            var tokenExpires = Min(now + options.SessionTokenLifetime, sessionExpires);
            var token = SessionStore.IssueToken(c, t, sessionId, now, tokenExpires);
            audit.Append(c, t, new AuditEntry(AuditActions.SessionOpen, AuditOutcomes.Success)
            {
                Actor = "sidecar", UserId = workspace.UserId, WorkspaceId = workspace.Id, RemoteAddress = remoteAddress, Detail = $"session {sessionId}",
            });
            var session = new SessionContext(sessionId, workspace.Id, workspace.UserId, workspace.AllowedHosts, sessionExpires, tokenExpires);
            return new Grant(token, session, RevocationLog.LatestSequence(c, t));
        });

    /// <summary>How long after a refresh its retry (same old token, same retry key) is still honoured.</summary>
    public static readonly TimeSpan RefreshRetryGrace = TimeSpan.FromMinutes(5);

    /// <summary>Shortest retry key taken; a shorter one counts as none.</summary>
    public const int MinimumRetryKeyBytes = 16;

    /// <summary>
    /// Rotates the session token. A superseded token revokes the workspace, unless it comes with the
    /// retry key of the refresh that superseded it, within <see cref="RefreshRetryGrace"/>: the
    /// sidecar never got that refresh's reply (e.g. the replica died after committing it), so the
    /// token it issued is superseded in turn and a fresh one returned.
    /// </summary>
    public Task<(SessionCheck Check, Grant? Grant)> RefreshAsync(string? token, byte[]? retryKey, string? remoteAddress) =>
        writes.ExecuteAsync<(SessionCheck, Grant?)>((c, t) =>
        {
            var now = time.GetUtcNow();
            var retryKeyHash = retryKey is { Length: >= MinimumRetryKeyBytes } ? System.Security.Cryptography.SHA256.HashData(retryKey) : null;
            var session = retryKeyHash is null ? null : SessionStore.FindLostRefresh(c, t, token, retryKeyHash, now, now - RefreshRetryGrace);
            var retried = session is not null;
            if (session is null)
            {
                var lookup = CheckWithin(c, t, token, now, remoteAddress);
                if (lookup.Check != SessionCheck.Valid)
                {
                    return (lookup.Check, null);
                }
                session = lookup.Session!;
            }
            var tokenExpires = Min(now + options.SessionTokenLifetime, session.SessionExpiresAt);
            var newToken = SessionStore.IssueToken(c, t, session.SessionId, now, tokenExpires, retryKeyHash);
            audit.Append(c, t, new AuditEntry(AuditActions.SessionRefresh, AuditOutcomes.Success)
            {
                Actor = "sidecar", UserId = session.UserId, WorkspaceId = session.WorkspaceId, RemoteAddress = remoteAddress,
                Detail = retried ? "retry of a refresh whose reply was lost; the token it issued is superseded" : null,
            });
            return (SessionCheck.Valid, new Grant(newToken, session with { TokenExpiresAt = tokenExpires }, RevocationLog.LatestSequence(c, t)));
        });

    /// <summary>Checks a token for a read-only call; a replayed token still revokes its workspace.</summary>
    public async Task<SessionLookup> AuthenticateAsync(string? token, string? remoteAddress)
    {
        var lookup = await database.ReadAsync(c => SessionStore.Authenticate(c, null, token, time.GetUtcNow()));
        return lookup.Check == SessionCheck.Replayed
            ? await writes.ExecuteAsync((c, t) => CheckWithin(c, t, token, time.GetUtcNow(), remoteAddress))
            : lookup;
    }

    /// <summary>Authenticates inside a write unit, revoking the workspace on replay (rule d).</summary>
    public SessionLookup CheckWithin(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction t, string? token, DateTimeOffset now,
        string? remoteAddress)
    {
        var lookup = SessionStore.Authenticate(c, t, token, now);
        if (lookup.Check == SessionCheck.Replayed && workspaces.RevokeWithin(c, t, lookup.Session!.WorkspaceId, now))
        {
            audit.Append(c, t, new AuditEntry(AuditActions.SessionReplay, AuditOutcomes.Denied)
            {
                Actor = "sidecar", UserId = lookup.Session.UserId, WorkspaceId = lookup.Session.WorkspaceId, RemoteAddress = remoteAddress,
                Detail = $"superseded token of session {lookup.Session.SessionId} presented again; workspace revoked",
            });
        }
        return lookup;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
