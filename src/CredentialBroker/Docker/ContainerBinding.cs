using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.Leases;
using Xares.Broker.Revocations;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Workspaces;

namespace Xares.Broker.Docker;

/// <summary>A bootstrap token minted for a bound container; the token lives only in memory until delivered.</summary>
internal sealed record ContainerGrant(string WorkspaceId, string Token)
{
    public override string ToString() => $"ContainerGrant {{ WorkspaceId = {WorkspaceId} }}";
}

/// <summary>
/// What a container's lifecycle does to its workspace (design.md §3), each change committed with
/// its audit record: bind the first live container naming a registered, unrevoked workspace and
/// mint its bootstrap token; refuse any other; end sessions and leases when it stops; revoke the
/// workspace when it is removed.
/// </summary>
internal sealed class ContainerBinding(Database database, WriteQueue writes, AuditChain audit, RevocationLog revocations, LeaseRevocation leases,
    WorkspaceLifecycle lifecycle, BrokerOptions options, TimeProvider time)
{
    /// <summary>Binds (or re-binds the same) container and mints a token; null when refused (audited once per reason).</summary>
    public Task<ContainerGrant?> BindAndMintAsync(string containerId, string workspaceLabel, string why) =>
        writes.ExecuteAsync<ContainerGrant?>((c, t) =>
        {
            var workspace = WorkspaceStore.Find(c, t, workspaceLabel);
            var refusal = workspace switch
            {
                null => $"container {DockerAudit.Short(containerId)} names unregistered workspace '{DockerAudit.Printable(workspaceLabel)}'",
                { RevokedAt: not null } => $"container {DockerAudit.Short(containerId)} names revoked workspace {workspace.Id}",
                _ when !WorkspaceStore.BindContainer(c, t, workspace.Id, containerId) =>
                    $"container {DockerAudit.Short(containerId)} refused: workspace {workspace.Id} is bound to container {DockerAudit.Short(workspace.ContainerId!)}",
                _ => null,
            };
            if (refusal is not null)
            {
                audit.Append(c, t, new AuditEntry(DockerAudit.ContainerBind, AuditOutcomes.Denied)
                {
                    Actor = DockerAudit.Actor, UserId = workspace?.UserId, WorkspaceId = workspace?.Id, Detail = refusal,
                });
                return null;
            }
            if (workspace!.ContainerId is null)
            {
                audit.Append(c, t, new AuditEntry(DockerAudit.ContainerBind, AuditOutcomes.Success)
                {
                    Actor = DockerAudit.Actor, UserId = workspace.UserId, WorkspaceId = workspace.Id, Detail = $"container {containerId}",
                });
            }
            return MintWithin(c, t, workspace, containerId, why);
        });

    /// <summary>A further token for the container already bound (re-delivery); null when it is no longer bound.</summary>
    public Task<ContainerGrant?> MintAgainAsync(string workspaceId, string containerId, string why) =>
        writes.ExecuteAsync<ContainerGrant?>((c, t) =>
            WorkspaceStore.Find(c, t, workspaceId) is { RevokedAt: null } workspace && workspace.ContainerId == containerId
                ? MintWithin(c, t, workspace, containerId, why)
                : null);

    private ContainerGrant MintWithin(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction t, WorkspaceRecord workspace,
        string containerId, string why)
    {
        var (token, _) = BootstrapTokens.Mint(c, t, workspace.Id, time.GetUtcNow(), options.BootstrapTokenLifetime);
        WorkspaceStore.SetContainerState(c, t, workspace.Id, ContainerStates.Starting);
        audit.Append(c, t, new AuditEntry(AuditActions.BootstrapMint, AuditOutcomes.Success)
        {
            Actor = DockerAudit.Actor, UserId = workspace.UserId, WorkspaceId = workspace.Id,
            Detail = $"for container {DockerAudit.Short(containerId)}: {why}",
        });
        return new ContainerGrant(workspace.Id, token);
    }

    /// <summary>Records how delivery ended: running, or failing (audited) when no session appeared.</summary>
    public Task RecordDeliveryAsync(string workspaceId, string containerId, bool delivered, string detail) =>
        writes.ExecuteAsync((c, t) =>
        {
            if (WorkspaceStore.Find(c, t, workspaceId) is not { RevokedAt: null } workspace || workspace.ContainerId != containerId)
            {
                return;
            }
            WorkspaceStore.SetContainerState(c, t, workspaceId, delivered ? ContainerStates.Running : ContainerStates.Failing);
            audit.Append(c, t, new AuditEntry(DockerAudit.ContainerBootstrap, delivered ? AuditOutcomes.Success : AuditOutcomes.Failure)
            {
                Actor = DockerAudit.Actor, UserId = workspace.UserId, WorkspaceId = workspaceId,
                Detail = $"container {DockerAudit.Short(containerId)}: {detail}",
            });
        });

    /// <summary>The container stopped: its workspace's sessions, leases and unused tokens end, and its sidecar is told.</summary>
    public Task<string?> ContainerStoppedAsync(string containerId, string detail) =>
        writes.ExecuteAsync((c, t) =>
        {
            if (WorkspaceStore.FindByContainer(c, t, containerId) is not { } workspace)
            {
                return null;
            }
            var now = time.GetUtcNow();
            foreach (var session in SessionStore.RevokeForWorkspace(c, t, workspace.Id, now))
            {
                revocations.Append(c, t, RevocationKinds.Session, session, workspaceId: workspace.Id);
            }
            leases.RevokeForWorkspace(c, t, workspace.Id, now);
            BootstrapTokens.InvalidateUnused(c, t, workspace.Id);
            WorkspaceStore.SetContainerState(c, t, workspace.Id, ContainerStates.Stopped);
            audit.Append(c, t, new AuditEntry(DockerAudit.ContainerStop, AuditOutcomes.Success)
            {
                Actor = DockerAudit.Actor, UserId = workspace.UserId, WorkspaceId = workspace.Id,
                Detail = $"container {DockerAudit.Short(containerId)} {detail}; sessions and leases revoked",
            });
            return workspace.Id;
        });

    /// <summary>The container was removed: its workspace is revoked for good.</summary>
    public async Task<string?> ContainerRemovedAsync(string containerId, string detail)
    {
        var workspace = await database.ReadAsync(c => WorkspaceStore.FindByContainer(c, null, containerId));
        return workspace is not null && await lifecycle.RevokeAsync(workspace.Id, DockerAudit.Actor, null, $"container {DockerAudit.Short(containerId)} {detail}")
            ? workspace.Id
            : null;
    }

    /// <summary>Whether the workspace has a live session opened at or after <paramref name="since"/>.</summary>
    public Task<bool> HasSessionSinceAsync(string workspaceId, DateTimeOffset since) =>
        database.ReadAsync(c => Sql.Scalar(c, null,
            "SELECT 1 FROM sessions WHERE workspace_id = @ws AND created_at >= @since AND revoked_at IS NULL AND expires_at > @now",
            ("@ws", workspaceId), ("@since", since.ToDb()), ("@now", time.GetUtcNow().ToDb())) is not null);

    public Task<List<WorkspaceRecord>> ListBoundAsync() => database.ReadAsync(WorkspaceStore.ListBound);

    public Task<WorkspaceRecord?> FindByContainerAsync(string containerId) =>
        database.ReadAsync(c => WorkspaceStore.FindByContainer(c, null, containerId));
}
