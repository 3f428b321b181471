using System.Data.Common;
using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.Leases;
using Xares.Broker.Revocations;
using Xares.Broker.Security;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;

namespace Xares.Broker.Workspaces;

/// <summary>Creating, re-bootstrapping and revoking workspaces; each change commits with its audit record.</summary>
internal sealed class WorkspaceLifecycle(WriteQueue writes, AuditChain audit, RevocationLog revocations, LeaseRevocation leases,
    BrokerOptions options, TimeProvider time)
{
    public sealed record Created(WorkspaceRecord Workspace, string BootstrapToken, DateTimeOffset BootstrapExpiresAt)
    {
        public override string ToString() => $"{nameof(Created)} {{ Workspace = {Workspace}, BootstrapToken = [redacted], BootstrapExpiresAt = {BootstrapExpiresAt:O} }}";
    }

    public Task<Created> CreateAsync(string userId, string name, IReadOnlyList<string>? allowedHosts, string actor, string? remoteAddress) =>
        writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            var workspace = new WorkspaceRecord(OpaqueToken.NewId("ws_"), userId, name, allowedHosts, now, null, null);
            WorkspaceStore.Insert(c, t, workspace);
            var (token, expiresAt) = BootstrapTokens.Mint(c, t, workspace.Id, now, options.BootstrapTokenLifetime);
            audit.Append(c, t, new AuditEntry(AuditActions.WorkspaceCreate, AuditOutcomes.Success)
            {
                Actor = actor, UserId = userId, WorkspaceId = workspace.Id, RemoteAddress = remoteAddress,
                Detail = allowedHosts is null ? "all hosts" : "allowed hosts: " + string.Join(' ', allowedHosts),
            });
            return new Created(workspace, token, expiresAt);
        });

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
        writes.ExecuteAsync((c, t) =>
        {
            var workspace = WorkspaceStore.Find(c, t, workspaceId);
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
