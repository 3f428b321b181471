using System.Data.Common;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Credentials.Matching;
using Xares.Broker.Hosting;
using Xares.Broker.Leases;
using Xares.Broker.Minted;
using Xares.Broker.Revocations;
using Xares.Broker.Security;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;

namespace Xares.Broker.Workspaces;

/// <summary>Creating, changing, re-bootstrapping and revoking workspaces; each change commits with its audit record.</summary>
internal sealed class WorkspaceLifecycle(WriteQueue writes, AuditChain audit, RevocationLog revocations, LeaseRevocation leases,
    MintedTokenRevocation mintedTokens, BrokerOptions options, TimeProvider time)
{
    public sealed record Created(WorkspaceRecord Workspace, string BootstrapToken, DateTimeOffset BootstrapExpiresAt)
    {
        public override string ToString() => $"{nameof(Created)} {{ Workspace = {Workspace}, BootstrapToken = [redacted], BootstrapExpiresAt = {BootstrapExpiresAt:O} }}";
    }

    public Task<Created> CreateAsync(string userId, string name, IReadOnlyList<string>? allowedHosts, string actor, string? remoteAddress,
        IReadOnlyList<RepositoryGrant>? repositories = null) =>
        writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            var workspace = new WorkspaceRecord(OpaqueToken.NewId("ws_"), userId, name, allowedHosts, now, null, null) { Repositories = repositories };
            WorkspaceStore.Insert(c, t, workspace);
            var (token, expiresAt) = BootstrapTokens.Mint(c, t, workspace.Id, now, options.BootstrapTokenLifetime);
            audit.Append(c, t, new AuditEntry(AuditActions.WorkspaceCreate, AuditOutcomes.Success)
            {
                Actor = actor, UserId = userId, WorkspaceId = workspace.Id, RemoteAddress = remoteAddress,
                Detail = (allowedHosts is null ? "all hosts" : "allowed hosts: " + string.Join(' ', allowedHosts))
                    + (repositories is null ? "" : "; repositories: " + DescribeRepositories(repositories)),
            });
            return new Created(workspace, token, expiresAt);
        });

    /// <summary>
    /// Applies a PATCH. Narrowing the allow-list revokes, in the same transaction, the leases whose
    /// hosts it no longer allows (announced to the sidecar through the revocation log); widening
    /// revokes nothing. A patch that changes nothing writes nothing.
    /// </summary>
    public Task<WorkspaceRecord> UpdateAsync(Caller caller, string workspaceId, WorkspacePatch patch, string? remoteAddress) =>
        writes.ExecuteAsync((c, t) =>
        {
            var current = WorkspaceStore.Find(c, t, workspaceId);
            if (current is null || !caller.CanSee(current.UserId))
            {
                throw new NotFoundException("The workspace");
            }
            if (current.RevokedAt is not null)
            {
                throw new ConflictException("The workspace is revoked; create a new one.");
            }
            var updated = current with
            {
                Name = patch.Name ?? current.Name,
                AllowedHosts = patch.AllowedHostsChanged ? patch.AllowedHosts : current.AllowedHosts,
                Repositories = patch.RepositoriesChanged ? patch.Repositories : current.Repositories,
            };
            var nameChanged = updated.Name != current.Name;
            var hostsChanged = !SameHosts(current.AllowedHosts, updated.AllowedHosts);
            var repositoriesChanged = DescribeRepositories(current.Repositories) != DescribeRepositories(updated.Repositories);
            if (!nameChanged && !hostsChanged && !repositoriesChanged)
            {
                return current;
            }
            var now = time.GetUtcNow();
            WorkspaceStore.UpdatePolicy(c, t, workspaceId, updated.Name, updated.AllowedHosts);
            WorkspaceStore.UpdateRepositories(c, t, workspaceId, updated.Repositories);
            // Stored lists were validated on the way in.
            var parsedHosts = HostAllowList.TryParse(updated.AllowedHosts, out var allowList, out _);
            var revoked = hostsChanged && parsedHosts
                ? leases.RevokeDisallowed(c, t, workspaceId, allowList!, now)
                : [];
            // Minted tokens (and so their leases) that reach a repository or host no longer allowed end too.
            var revokedTokens = hostsChanged || repositoriesChanged
                ? mintedTokens.RevokeOutsidePolicy(c, t, workspaceId, updated.Repositories, parsedHosts ? allowList : null, now)
                : [];
            var changes = new List<string>();
            if (nameChanged)
            {
                changes.Add($"name \"{current.Name}\" -> \"{updated.Name}\"");
            }
            if (hostsChanged)
            {
                changes.Add($"allowed hosts {Describe(current.AllowedHosts)} -> {Describe(updated.AllowedHosts)}");
            }
            if (repositoriesChanged)
            {
                changes.Add($"repositories {DescribeRepositories(current.Repositories)} -> {DescribeRepositories(updated.Repositories)}");
            }
            audit.Append(c, t, new AuditEntry(AuditActions.WorkspaceUpdate, AuditOutcomes.Success)
            {
                Actor = caller.Actor, UserId = current.UserId, WorkspaceId = workspaceId, RemoteAddress = remoteAddress,
                Detail = string.Join("; ", changes) + (revoked.Count == 0
                    ? "; no lease revoked"
                    : $"; revoked {revoked.Count} lease(s) for hosts no longer allowed: {string.Join(' ', revoked)}")
                    + (revokedTokens.Count == 0 ? "" : $"; revoked {revokedTokens.Count} minted token(s) no longer covered (with their leases): {string.Join(' ', revokedTokens)}"),
            });
            return updated;
        });

    private static bool SameHosts(IReadOnlyList<string>? a, IReadOnlyList<string>? b) =>
        a is null ? b is null : b is not null && a.SequenceEqual(b, StringComparer.Ordinal);

    private static string DescribeRepositories(IReadOnlyList<RepositoryGrant>? repositories) =>
        repositories is null ? "(none)" : $"[{string.Join(' ', repositories.Select(r => $"{r.Host}/{r.Name}:{r.Access}"))}]";

    private static string Describe(IReadOnlyList<string>? hosts) => hosts is null ? "(all hosts)" : $"[{string.Join(' ', hosts)}]";

    /// <summary>Mints a new bootstrap token (older unused ones stop working); null when the workspace is unknown or revoked.</summary>
    public Task<(string Token, DateTimeOffset ExpiresAt)?> MintBootstrapAsync(string workspaceId, string actor, string? remoteAddress) =>
        writes.ExecuteAsync<(string, DateTimeOffset)?>((c, t) =>
        {
            var workspace = WorkspaceStore.Find(c, t, workspaceId);
            if (workspace is null || workspace.RevokedAt is not null)
            {
                return null;
            }
            var minted = BootstrapTokens.Mint(c, t, workspaceId, time.GetUtcNow(), options.BootstrapTokenLifetime);
            audit.Append(c, t, new AuditEntry(AuditActions.BootstrapMint, AuditOutcomes.Success)
            {
                Actor = actor, UserId = workspace.UserId, WorkspaceId = workspaceId, RemoteAddress = remoteAddress,
            });
            return minted;
        });

    public Task<bool> RevokeAsync(string workspaceId, string actor, string? remoteAddress, string reason) =>
        RevokeAsync(workspaceId, actor, null, remoteAddress, reason);

    /// <summary>
    /// Revokes on a caller's request (DELETE /api/v1/workspaces/{id}, or "Revoke workspace" in the web UI);
    /// another user's workspace is not found. False when it was already revoked.
    /// </summary>
    public Task<bool> RevokeAsync(Caller caller, string workspaceId, string? remoteAddress, string reason) =>
        RevokeAsync(workspaceId, caller.Actor, caller, remoteAddress, reason);

    private Task<bool> RevokeAsync(string workspaceId, string actor, Caller? caller, string? remoteAddress, string reason) =>
        writes.ExecuteAsync((c, t) =>
        {
            var workspace = WorkspaceStore.Find(c, t, workspaceId);
            if (caller is not null && (workspace is null || !caller.CanSee(workspace.UserId)))
            {
                throw new NotFoundException("The workspace");
            }
            if (workspace is null || !RevokeWithin(c, t, workspaceId, time.GetUtcNow()))
            {
                return false;
            }
            audit.Append(c, t, new AuditEntry(AuditActions.WorkspaceRevoke, AuditOutcomes.Success)
            {
                Actor = actor, UserId = workspace.UserId, WorkspaceId = workspaceId, RemoteAddress = remoteAddress, Detail = reason,
            });
            return true;
        });

    /// <summary>Revokes the workspace, its sessions, leases and unused bootstrap tokens, and tells its sidecars.</summary>
    public bool RevokeWithin(DbConnection connection, DbTransaction transaction, string workspaceId, DateTimeOffset now)
    {
        if (!WorkspaceStore.Revoke(connection, transaction, workspaceId, now))
        {
            return false;
        }
        SessionStore.RevokeForWorkspace(connection, transaction, workspaceId, now);
        leases.RevokeForWorkspace(connection, transaction, workspaceId, now);
        BootstrapTokens.InvalidateUnused(connection, transaction, workspaceId);
        revocations.Append(connection, transaction, RevocationKinds.Workspace, workspaceId, workspaceId: workspaceId);
        return true;
    }
}
