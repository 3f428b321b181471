using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Xares.Broker.Api;
using Xares.Broker.Api.Idempotency;
using Xares.Broker.Api.Preconditions;
using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.ApiKeys;

/// <summary>
/// REST: /api/v1/api-keys (scope admin). The token is shown once, in the create response; lists
/// show its prefix. A key never mints a key broader than itself.
/// </summary>
internal static class ApiKeyEndpoints
{
    /// <summary>How long a rotated key keeps working, so deployments can switch over without an outage.</summary>
    public static readonly TimeSpan DefaultRotationGrace = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxRotationGrace = TimeSpan.FromDays(7);

    public static RouteGroupBuilder MapApiKeys(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/api-keys").RequireAuthorization(ApiKeyScopes.Admin);
        group.MapPost("", CreateAsync).Accepts<CreateApiKeyRequest>("application/json").WithIdempotencyKey(answerCarriesSecret: true);
        group.MapGet("", ListAsync)
            .WithSummary("List API keys, oldest first (never a token); " + ListingCursor.QueryHelp);
        group.MapDelete("/{id}", RevokeAsync).WithEntityTag(VersionedTable.ApiKeys);
        group.MapPost("/{id}/rotate", RotateAsync).Accepts<RotateApiKeyRequest>(isOptional: true, "application/json")
            .WithIdempotencyKey(answerCarriesSecret: true);
        return group;
    }

    private static async Task<Created<CreatedApiKey>> CreateAsync(HttpContext http, WriteQueue writes, AuditChain audit, TimeProvider time, BrokerOptions options)
    {
        var body = await JsonRequestBody.ReadAsync<CreateApiKeyRequest>(http.Request, options.MaxRequestBytes);
        var created = await ApiKeyIssuance.CreateAsync(writes, audit, http.Caller(), body, time.GetUtcNow(), http.RemoteAddress());
        return TypedResults.Created($"/api/v1/api-keys/{created.Id}", created);
    }

    private static async Task<Ok<ApiKeyList>> ListAsync(string? limit, string? cursor, HttpContext http, Database database)
    {
        var (pageSize, after) = ListingCursor.ParsePage(limit, cursor, "key_", "API key");
        var (items, nextCursor) = await database.ReadAsync(c => ListingCursor.Page(
            ApiKeyStore.ListAfter(c, http.Caller().BoundUserId, after ?? ListingPosition.Start, pageSize + 1), pageSize, k => ListingPosition.Of(k.CreatedAt, k.Id)));
        return TypedResults.Ok(new ApiKeyList(items, nextCursor));
    }

    private static async Task<NoContent> RevokeAsync(string id, HttpContext http, WriteQueue writes, AuditChain audit, TimeProvider time)
    {
        await ApiKeyIssuance.RevokeAsync(writes, audit, http.Caller(), id, time.GetUtcNow(), http.RemoteAddress());
        return TypedResults.NoContent();
    }

    /// <summary>
    /// A new secret for the key's name, scopes and user; the old one keeps working for the grace
    /// period (default 1 h, at most 7 days, never past its own expiry), then expires.
    /// </summary>
    private static async Task<Created<RotatedApiKey>> RotateAsync(string id, HttpContext http, Database database, WriteQueue writes, AuditChain audit,
        TimeProvider time, BrokerOptions options)
    {
        var caller = http.Caller();
        var now = time.GetUtcNow();
        // Unknown and foreign keys answer 404 before anything about the request is judged.
        if (!IsRotatable(await database.ReadAsync(c => ApiKeyStore.Find(c, null, id)), caller, now))
        {
            throw new NotFoundException("API key");
        }
        // The body is optional: without one the default grace applies.
        var body = http.Request.ContentLength is 0 || (http.Request.ContentLength is null && http.Request.ContentType is null)
            ? new RotateApiKeyRequest(null)
            : await JsonRequestBody.ReadAsync<RotateApiKeyRequest>(http.Request, options.MaxRequestBytes);
        if (body.GraceSeconds is < 0 || body.GraceSeconds > MaxRotationGrace.TotalSeconds)
        {
            throw ValidationException.For("graceSeconds", $"graceSeconds must be between 0 and {MaxRotationGrace.TotalSeconds:0}.");
        }
        var grace = body.GraceSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : DefaultRotationGrace;
        var remote = http.RemoteAddress();
        return await writes.ExecuteAsync((c, t) =>
        {
            var key = ApiKeyStore.Find(c, t, id);
            if (!IsRotatable(key, caller, now))
            {
                throw new NotFoundException("API key");
            }
            EnsureMayGrant(caller, key.Scopes, key.UserId);
            var oldEnd = key.ExpiresAt is { } expires && expires < now + grace ? expires : now + grace;
            ApiKeyStore.ExpireBy(c, t, id, oldEnd);
            var lifetime = key.ExpiresAt is { } end ? end - key.CreatedAt : ApiKeyLifetime.Default;
            var (record, token) = ApiKeyStore.Insert(c, t, key.Name, key.Scopes, key.UserId, now, ApiKeyLifetime.Renewed(now, lifetime));
            audit.Append(c, t, new AuditEntry(AuditActions.ApiKeyRotate, AuditOutcomes.Success)
            {
                Actor = caller.Actor, RemoteAddress = remote, UserId = key.UserId,
                Detail = $"key {id} rotated to {record.Id}; the old key works until {oldEnd:O}",
            });
            return TypedResults.Created($"/api/v1/api-keys/{record.Id}", new RotatedApiKey(
                new CreatedApiKey(record.Id, record.Name, record.Prefix, record.Scopes, record.UserId, record.CreatedAt, record.ExpiresAt, token), id, oldEnd));
        });
    }

    private static bool IsRotatable([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] ApiKeyRecord? key, Caller caller, DateTimeOffset now) =>
        key is not null && key.RevokedAt is null && !(key.ExpiresAt <= now) && (caller.BoundUserId is null || key.UserId == caller.BoundUserId);

    /// <summary>Admin grants anything; other keys only scopes they hold; a user-bound key only for its own user.</summary>
    internal static void EnsureMayGrant(Caller caller, IReadOnlyList<string> scopes, string? userId)
    {
        // Another user's id answers as unknown, like every route does for a user-bound key (no id probing).
        if (caller.BoundUserId is not null && userId != caller.BoundUserId)
        {
            throw new NotFoundException("User");
        }
        if (!scopes.All(caller.Has))
        {
            throw new ForbiddenException("An API key cannot grant a scope it does not have.");
        }
    }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record CreateApiKeyRequest(string? Name, string[]? Scopes, string? UserId, DateTimeOffset? ExpiresAt);

/// <summary>The create response: the only place the key itself ever appears.</summary>
internal sealed record CreatedApiKey(string Id, string Name, string Prefix, IReadOnlyList<string> Scopes, string? UserId,
    DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, string Key)
{
    public override string ToString() => $"{nameof(CreatedApiKey)} {{ Id = {Id} }}";
}

internal sealed record ApiKeyList(IReadOnlyList<ApiKeyRecord> Items, string? NextCursor = null);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record RotateApiKeyRequest(int? GraceSeconds);

/// <summary>The rotate response: the new key (shown once) and until when the previous one still works.</summary>
internal sealed record RotatedApiKey(CreatedApiKey Key, string PreviousKeyId, DateTimeOffset PreviousKeyExpiresAt);
