using Microsoft.AspNetCore.Http.HttpResults;
using Xares.Broker.Api;
using Xares.Broker.Api.Preconditions;
using Xares.Broker.ApiKeys;
using Xares.Broker.Storage;

namespace Xares.Broker.Leases;

internal static class LeaseEndpoints
{
    public sealed record LeaseResponse(string Id, string WorkspaceId, string SessionId, string CredentialId, long SecretVersion,
        DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, DateTimeOffset? RejectedAt, string Status);

    public sealed record LeaseList(IReadOnlyList<LeaseResponse> Items, string? NextCursor = null);

    public static IServiceCollection AddLeases(this IServiceCollection services) =>
        services.AddSingleton<LeaseIssuer>().AddSingleton<RejectionReporter>().AddSingleton<ForeignHelperReporter>()
            .AddSingleton<UsageRecorder>().AddSingleton<AiLeaseIssuer>().AddSingleton<AiUsageReporter>()
            .AddSingleton<AiRequestGranter>().AddSingleton<LeaseRevoker>();

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

    private static async Task<NoContent> RevokeAsync(string id, HttpContext http, LeaseRevoker revoker)
    {
        await revoker.RevokeAsync(http.Caller(), id, http.RemoteAddress());
        return TypedResults.NoContent();
    }

    private static LeaseResponse ToResponse(LeaseRecord l, DateTimeOffset now) => new(
        l.Id, l.WorkspaceId, l.SessionId, l.CredentialId, l.SecretVersion, l.IssuedAt, l.ExpiresAt, l.RevokedAt, l.RejectedAt,
        l.RevokedAt is not null ? "revoked" : l.ExpiresAt <= now ? "expired" : "active");
}
