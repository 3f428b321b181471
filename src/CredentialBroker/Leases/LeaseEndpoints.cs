using Microsoft.AspNetCore.Http.HttpResults;
using Xares.Broker.Api;
using Xares.Broker.Api.Preconditions;
using Xares.Broker.ApiKeys;
using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Workspaces;

namespace Xares.Broker.Leases;

internal static class LeaseEndpoints
{
    public sealed record LeaseResponse(string Id, string WorkspaceId, string SessionId, string CredentialId, long SecretVersion,
        DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? RejectedAt, string Status);

    public sealed record LeaseList(IReadOnlyList<LeaseResponse> Items, string? NextCursor = null);

    public static IServiceCollection AddLeases(this IServiceCollection services) =>
        services.AddSingleton<LeaseIssuer>().AddSingleton<RejectionReporter>().AddSingleton<ForeignHelperReporter>()
            .AddSingleton<UsageRecorder>().AddSingleton<AiLeaseIssuer>().AddSingleton<AiUsageReporter>()
            .AddSingleton<AiRequestGranter>();

    public static RouteGroupBuilder MapLeases(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/leases").WithTags("Leases");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeyScopes.WorkspacesRead)
            .WithSummary("List leases, newest first; live ones only unless includeEnded=true; workspaceId narrows to one workspace; " + ListingCursor.QueryHelp);
        group.MapDelete("/{id}", RevokeAsync).RequireAuthorization(ApiKeyScopes.WorkspacesWrite).WithEntityTag(VersionedTable.Leases);
        return group;
    }

    private static async Task<Ok<LeaseList>> ListAsync(string? workspaceId, bool? includeEnded, string? limit, string? cursor, HttpContext http,
        Database database, TimeProvider time)
    {
        var (pageSize, before) = ListingCursor.ParsePage(limit, cursor, "lease_", "lease");
        var caller = http.Caller();
        var now = time.GetUtcNow();
        var (leases, nextCursor) = await database.ReadAsync(c => ListingCursor.Page(
            LeaseStore.ListBefore(c, workspaceId, caller.BoundUserId, now, includeEnded ?? false, before ?? LeaseStore.Newest, pageSize + 1),
            pageSize, l => ListingPosition.Of(l.IssuedAt, l.Id)));
        return TypedResults.Ok(new LeaseList(leases.ConvertAll(l => ToResponse(l, now)), nextCursor));
    }

    private static async Task<NoContent> RevokeAsync(string id, HttpContext http, WriteQueue writes, AuditChain audit, LeaseRevocation revocation, TimeProvider time)
    {
        var caller = http.Caller();
        // Not found is thrown inside the unit, so it wins over a failed If-Match (no probing of ids).
        await writes.ExecuteAsync((c, t) =>
        {
            var lease = LeaseStore.Find(c, t, id);
            var workspace = lease is null ? null : WorkspaceStore.Find(c, t, lease.WorkspaceId);
            if (lease is null || workspace is null || !caller.CanSee(workspace.UserId))
            {
                throw new NotFoundException("The lease");
            }
            if (revocation.RevokeLease(c, t, id, lease.WorkspaceId, time.GetUtcNow()))
            {
                audit.Append(c, t, new AuditEntry(AuditActions.LeaseRevoke, AuditOutcomes.Success)
                {
                    Actor = caller.Actor, UserId = workspace.UserId, WorkspaceId = workspace.Id, CredentialId = lease.CredentialId, LeaseId = lease.Id,
                    RemoteAddress = http.RemoteAddress(),
                });
            }
        });
        return TypedResults.NoContent();
    }

    private static LeaseResponse ToResponse(LeaseRecord l, DateTimeOffset now) => new(
        l.Id, l.WorkspaceId, l.SessionId, l.CredentialId, l.SecretVersion, l.IssuedAt, l.ExpiresAt, l.RevokedAt, l.RejectedAt,
        l.RevokedAt is not null ? "revoked" : l.ExpiresAt <= now ? "expired" : "active");
}
