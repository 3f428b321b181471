using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Audit;

/// <summary>
/// REST (scope audit:read): GET /api/v1/audit (query, newest first, cursor-paged),
/// GET /api/v1/audit/export (JSON lines, oldest first), GET /api/v1/audit/verify (the chain, and
/// the checkpoint file of this broker), GET /api/v1/audit/flags and POST /api/v1/audit/flags/{id}/ack.
/// </summary>
internal static class AuditEndpoints
{
    /// <summary>Checkpoints, retention and the flag detector (each a background job that is off when its option is).</summary>
    public static IServiceCollection AddAuditOperations(this IServiceCollection services)
    {
        services.AddSingleton<AuditPruner>();
        services.AddSingleton<AuditFlagDetector>();
        services.AddSingleton<AuditCheckpointWriter>();
        services.AddSingleton<AuditRetentionService>();
        services.AddSingleton<AuditFlagScanner>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditCheckpointWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<AuditRetentionService>());
        services.AddHostedService(sp => sp.GetRequiredService<AuditFlagScanner>());
        return services;
    }

    public static RouteGroupBuilder MapAudit(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/audit").RequireAuthorization(ApiKeyScopes.AuditRead);
        group.MapGet("", QueryAsync);
        group.MapGet("/export", Export).Produces<AuditExportLine>(StatusCodes.Status200OK, AuditExport.ContentType);
        group.MapGet("/verify", VerifyAsync);
        group.MapGet("/flags", FlagsAsync);
        group.MapPost("/flags/{id}/ack", AcknowledgeAsync);
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

    // The verification covers every user's records (their count included): unbound keys only.
    private static async Task<Ok<AuditVerification>> VerifyAsync(HttpContext http, Database database, AuditChain audit, Keyring keyring, BrokerOptions options)
    {
        if (http.Caller().BoundUserId is not null)
        {
            throw new ForbiddenException("A user-bound API key cannot verify the audit chain: verification covers every user's records.");
        }
        var checkpoints = AuditCheckpointFile.Read(options.Audit.CheckpointPath(options.DataDirectory), keyring);
        return TypedResults.Ok(await database.ReadAsync(c => audit.Verify(c, checkpoints)));
    }

    private static async Task<Ok<AuditFlagPage>> FlagsAsync([AsParameters] AuditFlagQueryParameters parameters, HttpContext http, Database database)
    {
        var query = ScopedToCaller(AuditQuery.Parse(parameters.AsQuery()), http.Caller());
        var (flags, nextCursor) = await database.ReadAsync(c => AuditFlagStore.Page(c, query));
        return TypedResults.Ok(new AuditFlagPage(flags.Select(AuditFlagItem.From).ToList(), nextCursor));
    }

    // Acknowledging marks a flag as reviewed (audited); it changes no audit record, so audit:read suffices.
    private static async Task<Ok<AuditFlagItem>> AcknowledgeAsync(string id, HttpContext http, WriteQueue writes, AuditChain audit, TimeProvider time) =>
        TypedResults.Ok(AuditFlagItem.From(await AuditFlagAcknowledgement.AcknowledgeAsync(writes, audit, time, http.Caller(), id, http.RemoteAddress())));

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

/// <summary>The query string of GET /api/v1/audit/flags.</summary>
internal sealed record AuditFlagQueryParameters(string? UserId, string? WorkspaceId, string? Since, string? Limit, string? Cursor)
{
    public AuditQueryParameters AsQuery() => new(UserId, WorkspaceId, CredentialId: null, Action: null, Since, Limit, Cursor);
}

/// <summary>A page of flags, newest first; <see cref="NextCursor"/> continues after its last item, null on the last page.</summary>
internal sealed record AuditFlagPage(IReadOnlyList<AuditFlagItem> Items, string? NextCursor);

/// <summary>A flag as listed; <see cref="AuditSequence"/> is the audit record that raised it.</summary>
internal sealed record AuditFlagItem(string Id, string Kind, DateTimeOffset RaisedAt, string? UserId, string? WorkspaceId, string? CredentialId,
    string? RemoteAddress, string Detail, long AuditSequence, DateTimeOffset? AcknowledgedAt, string? AcknowledgedBy)
{
    public static AuditFlagItem From(AuditFlag f) =>
        new(f.Id, f.Kind, f.RaisedAt, f.UserId, f.WorkspaceId, f.CredentialId, f.RemoteAddress, f.Detail, f.Sequence, f.AcknowledgedAt, f.AcknowledgedBy);
}
