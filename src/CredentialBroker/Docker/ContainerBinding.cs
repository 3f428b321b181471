using System.Data.Common;
using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.Leases;
using Xares.Broker.Revocations;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Users;
using Xares.Broker.Workspaces;

namespace Xares.Broker.Docker;

/// <summary>A bootstrap token minted for a bound container; the token lives only in memory until delivered.</summary>
internal sealed record ContainerGrant(string WorkspaceId, string Token)
{
    public override string ToString() => $"ContainerGrant {{ WorkspaceId = {WorkspaceId} }}";
}

/// <summary>
/// What a container's lifecycle does to its workspace (README, Docker), each change committed with
/// its audit record: bind the first live container naming a registered, unrevoked workspace and
/// mint its bootstrap token; refuse any other; end sessions and leases when it stops; revoke the
/// workspace when it is removed.
/// </summary>
internal sealed class ContainerBinding(Database database, WriteQueue writes, AuditChain audit, RevocationLog revocations, LeaseRevocation leases,
    WorkspaceLifecycle lifecycle, WorkspaceClaims claims, BrokerOptions options, TimeProvider time)
{
    /// <summary>Binds (or re-binds the same) container and mints a token; null when refused (audited once per reason).</summary>
    public Task<ContainerGrant?> BindAndMintAsync(ContainerRef container, string workspaceLabel, string why) =>
        writes.ExecuteAsync<ContainerGrant?>((c, t) =>
        {
            var workspace = WorkspaceStore.Find(c, t, workspaceLabel);
            return BindWithin(c, t, workspace, container, why,
                workspace is null ? $"container {container.Short} names unregistered workspace '{DockerAudit.Printable(workspaceLabel)}'" : null);
        });

    /// <summary>
    /// A container labelled <c>xares.claim</c>: the first live container presenting a validly signed,
    /// unexpired claim creates the claimed workspace (audited) and is bound to it; the same container
    /// later (a restart) is bound again; any other is refused. Null when refused (audited).
    /// </summary>
    public Task<ContainerGrant?> ClaimAndMintAsync(ContainerRef container, string claimLabel, string why)
    {
        var problem = claims.TryRead(claimLabel, out var claim);
        return writes.ExecuteAsync<ContainerGrant?>((c, t) =>
        {
            var shortId = container.Short;
            if (problem != ClaimProblem.None)
            {
                var reason = problem switch
                {
                    ClaimProblem.Disabled => "claims are not enabled on this broker (--docker-claim-key-file)",
                    ClaimProblem.BadSignature => "its signature does not match the claim key",
                    _ => "it is not a well-formed v1 claim",
                };
                return BindWithin(c, t, null, container, why, $"container {shortId} refused: {WorkspaceClaim.Label} label not accepted, {reason}");
            }
            var now = time.GetUtcNow();
            var workspace = WorkspaceStore.Find(c, t, claim!.WorkspaceId);
            string? refusal = null;
            if (workspace is not null && workspace.UserId != claim.UserId)
            {
                // Audited against the workspace and its owner, who should see the attempt.
                refusal = $"container {shortId} refused: claim {claim.Id} names user '{DockerAudit.Printable(claim.UserId)}', its workspace belongs to another";
            }
            else if (workspace is null && claim.ExpiresAt <= now)
            {
                refusal = $"container {shortId} refused: claim {claim.Id} expired at {claim.ExpiresAt:O}";
            }
            else if (workspace is null && !UserStore.Exists(c, t, claim.UserId))
            {
                refusal = $"container {shortId} refused: claim {claim.Id} names unknown user '{DockerAudit.Printable(claim.UserId)}'";
            }
            else if (workspace is null)
            {
                workspace = new WorkspaceRecord(claim.WorkspaceId, claim.UserId, claim.Name, claim.AllowedHosts, now, null, null);
                WorkspaceStore.Insert(c, t, workspace);
                audit.Append(c, t, new AuditEntry(AuditActions.WorkspaceCreate, AuditOutcomes.Success)
                {
                    Actor = DockerAudit.Actor, UserId = claim.UserId, WorkspaceId = workspace.Id,
                    Detail = $"from signed claim {claim.Id} on container {shortId}; "
                        + (claim.AllowedHosts is null ? "all hosts" : "allowed hosts: " + string.Join(' ', claim.AllowedHosts)),
                });
            }
            return BindWithin(c, t, workspace, container, why, refusal);
        });
    }

    /// <summary>Binds the container to <paramref name="workspace"/> and mints, or audits why not: <paramref name="refusal"/>, a revoked workspace, another container.</summary>
    private ContainerGrant? BindWithin(DbConnection c, DbTransaction t, WorkspaceRecord? workspace, ContainerRef container, string why, string? refusal)
    {
        refusal ??= workspace switch
        {
            null => $"container {container.Short} names no workspace",
            { RevokedAt: not null } => $"container {container.Short} names revoked workspace {workspace.Id}",
            _ when !WorkspaceStore.BindContainer(c, t, workspace.Id, container.Engine, container.Id) =>
                $"container {container.Short} refused: workspace {workspace.Id} is bound to container {new ContainerRef(workspace.ContainerEngine ?? "?", workspace.ContainerId!).Short}",
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
                Actor = DockerAudit.Actor, UserId = workspace.UserId, WorkspaceId = workspace.Id, Detail = $"container {container}",
            });
        }
        return MintWithin(c, t, workspace, container, why);
    }

    /// <summary>A further token for the container already bound (re-delivery); null when it is no longer bound.</summary>
    public Task<ContainerGrant?> MintAgainAsync(string workspaceId, ContainerRef container, string why) =>
        writes.ExecuteAsync<ContainerGrant?>((c, t) =>
            WorkspaceStore.Find(c, t, workspaceId) is { RevokedAt: null } workspace && IsBoundTo(workspace, container)
                ? MintWithin(c, t, workspace, container, why)
                : null);

    private ContainerGrant MintWithin(DbConnection c, DbTransaction t, WorkspaceRecord workspace,
        ContainerRef container, string why)
    {
        var (token, _) = BootstrapTokens.Mint(c, t, workspace.Id, time.GetUtcNow(), options.BootstrapTokenLifetime);
        WorkspaceStore.SetContainerState(c, t, workspace.Id, ContainerStates.Starting);
        audit.Append(c, t, new AuditEntry(AuditActions.BootstrapMint, AuditOutcomes.Success)
        {
            Actor = DockerAudit.Actor, UserId = workspace.UserId, WorkspaceId = workspace.Id,
            Detail = $"for container {container.Short}: {why}",
        });
        return new ContainerGrant(workspace.Id, token);
    }

    /// <summary>Records how delivery ended: running, or failing (audited) when no session appeared.</summary>
    public Task RecordDeliveryAsync(string workspaceId, ContainerRef container, bool delivered, string detail) =>
        writes.ExecuteAsync((c, t) =>
        {
            if (WorkspaceStore.Find(c, t, workspaceId) is not { RevokedAt: null } workspace || !IsBoundTo(workspace, container))
            {
                return;
            }
            WorkspaceStore.SetContainerState(c, t, workspaceId, delivered ? ContainerStates.Running : ContainerStates.Failing);
            audit.Append(c, t, new AuditEntry(DockerAudit.ContainerBootstrap, delivered ? AuditOutcomes.Success : AuditOutcomes.Failure)
            {
                Actor = DockerAudit.Actor, UserId = workspace.UserId, WorkspaceId = workspaceId,
                Detail = $"container {container.Short}: {detail}",
            });
        });

    /// <summary>The container stopped: its workspace's sessions, leases and unused tokens end, and its sidecar is told.</summary>
    public Task<string?> ContainerStoppedAsync(ContainerRef container, string detail) =>
        writes.ExecuteAsync((c, t) =>
        {
            if (WorkspaceStore.FindByContainer(c, t, container.Engine, container.Id) is not { } workspace)
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
                Detail = $"container {container.Short} {detail}; sessions and leases revoked",
            });
            return workspace.Id;
        });

    /// <summary>The container was removed: its workspace is revoked for good.</summary>
    public async Task<string?> ContainerRemovedAsync(ContainerRef container, string detail)
    {
        var workspace = await database.ReadAsync(c => WorkspaceStore.FindByContainer(c, null, container.Engine, container.Id));
        return workspace is not null && await lifecycle.RevokeAsync(workspace.Id, DockerAudit.Actor, null, $"container {container.Short} {detail}")
            ? workspace.Id
            : null;
    }

    /// <summary>Whether the workspace has a live session opened at or after <paramref name="since"/>.</summary>
    public Task<bool> HasSessionSinceAsync(string workspaceId, DateTimeOffset since) =>
        database.ReadAsync(c => Sql.Scalar(c, null,
            "SELECT 1 FROM sessions WHERE workspace_id = @ws AND created_at >= @since AND revoked_at IS NULL AND expires_at > @now",
            ("@ws", workspaceId), ("@since", since.ToDb()), ("@now", time.GetUtcNow().ToDb())) is not null);

    public Task<List<WorkspaceRecord>> ListBoundAsync(string engine) => database.ReadAsync(c => WorkspaceStore.ListBound(c, engine));

    public Task<WorkspaceRecord?> FindByContainerAsync(ContainerRef container) =>
        database.ReadAsync(c => WorkspaceStore.FindByContainer(c, null, container.Engine, container.Id));

    private static bool IsBoundTo(WorkspaceRecord workspace, ContainerRef container) =>
        workspace.ContainerEngine == container.Engine && workspace.ContainerId == container.Id;
}
