using Microsoft.AspNetCore.Http.HttpResults;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>REST: GET /api/v1/audit (query, newest first) and GET /api/v1/audit/verify (scope audit:read).</summary>
internal static class AuditEndpoints
{
    public static RouteGroupBuilder MapAudit(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/audit").RequireAuthorization(ApiKeyScopes.AuditRead);
        group.MapGet("", QueryAsync);
        group.MapGet("/verify", VerifyAsync);
        return group;
    }

    private static async Task<Ok<AuditPage>> QueryAsync([AsParameters] AuditQueryParameters parameters, HttpContext http, Database database)
    {
        var query = AuditQuery.Parse(parameters);
        var caller = http.Caller();
        if (caller.BoundUserId is not null)
        {
            // A user-bound key reads its own user's records only; asking for another user's is "not found".
            caller.EnsureCanSee(query.UserId ?? caller.BoundUserId, "User");
            query = query with { UserId = caller.BoundUserId };
        }
        var records = await database.ReadAsync(query.Run);
        return TypedResults.Ok(new AuditPage(records.Select(AuditItem.From).ToList()));
    }

    private static async Task<Ok<AuditVerification>> VerifyAsync(Database database, AuditChain audit) =>
        TypedResults.Ok(await database.ReadAsync(audit.Verify));
}

internal sealed record AuditPage(IReadOnlyList<AuditItem> Items);

internal sealed record AuditItem(long Sequence, DateTimeOffset At, string Action, string Outcome, string? Actor, string? UserId,
    string? WorkspaceId, string? CredentialId, string? LeaseId, string? RemoteAddress, string? Detail)
{
    public static AuditItem From(AuditRecord r) =>
        new(r.Sequence, r.At, r.Action, r.Outcome, r.Actor, r.UserId, r.WorkspaceId, r.CredentialId, r.LeaseId, r.RemoteAddress, r.Detail);
}
