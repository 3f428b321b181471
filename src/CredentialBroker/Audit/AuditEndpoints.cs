using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>
/// REST (scope audit:read): GET /api/v1/audit (query, newest first, cursor-paged),
/// GET /api/v1/audit/export (JSON lines, oldest first) and GET /api/v1/audit/verify.
/// </summary>
internal static class AuditEndpoints
{
    public static RouteGroupBuilder MapAudit(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/audit").RequireAuthorization(ApiKeyScopes.AuditRead);
        group.MapGet("", QueryAsync);
        group.MapGet("/export", Export).Produces<AuditExportLine>(StatusCodes.Status200OK, AuditExport.ContentType);
        group.MapGet("/verify", VerifyAsync);
        return group;
    }

    private static async Task<Ok<AuditPage>> QueryAsync([AsParameters] AuditQueryParameters parameters, HttpContext http, Database database)
    {
        var query = ScopedToCaller(AuditQuery.Parse(parameters), http.Caller());
        var (records, nextCursor) = await database.ReadAsync(query.Run);
        return TypedResults.Ok(new AuditPage(records.Select(AuditItem.From).ToList(), nextCursor));
    }

    // Parsing and scoping happen before the response starts, so a bad request is still a 400 problem.
    private static PushStreamHttpResult Export([AsParameters] AuditExportParameters parameters, HttpContext http, Database database, IOptions<JsonOptions> json)
    {
        var query = ScopedToCaller(AuditQuery.Parse(parameters.AsQuery()), http.Caller());
        var options = json.Value.SerializerOptions;
        return TypedResults.Stream(body => AuditExport.WriteAsync(body, query, database, options, AuditExport.PageSize, http.RequestAborted), AuditExport.ContentType);
    }

    private static async Task<Ok<AuditVerification>> VerifyAsync(Database database, AuditChain audit) =>
        TypedResults.Ok(await database.ReadAsync(audit.Verify));

    // A user-bound key reads its own user's records only; asking for another user's is "not found".
    private static AuditQuery ScopedToCaller(AuditQuery query, Caller caller)
    {
        if (caller.BoundUserId is null)
        {
            return query;
        }
        caller.EnsureCanSee(query.UserId ?? caller.BoundUserId, "User");
        return query with { UserId = caller.BoundUserId };
    }
}

/// <summary>A page of audit records, newest first; <see cref="NextCursor"/> continues after its last item, null on the last page.</summary>
internal sealed record AuditPage(IReadOnlyList<AuditItem> Items, string? NextCursor);

internal sealed record AuditItem(long Sequence, DateTimeOffset At, string Action, string Outcome, string? Actor, string? UserId,
    string? WorkspaceId, string? CredentialId, string? LeaseId, string? RemoteAddress, string? Detail)
{
    public static AuditItem From(AuditRecord r) =>
        new(r.Sequence, r.At, r.Action, r.Outcome, r.Actor, r.UserId, r.WorkspaceId, r.CredentialId, r.LeaseId, r.RemoteAddress, r.Detail);
}
