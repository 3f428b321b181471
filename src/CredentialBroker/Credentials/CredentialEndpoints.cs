using Microsoft.AspNetCore.Http.HttpResults;
using Xares.Broker.Api;
using Xares.Broker.Api.Idempotency;
using Xares.Broker.Api.Preconditions;
using Xares.Broker.ApiKeys;
using Xares.Broker.CredentialHealth;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.Credentials;

/// <summary>
/// REST: /api/v1/users/{userId}/credentials (paged like every listing) and /api/v1/credentials/{id}. Responses carry the
/// secret's hint only (invariant 2); a user-bound key sees only its own user's credentials.
/// </summary>
internal static class CredentialEndpoints
{
    public static IServiceCollection AddCredentials(this IServiceCollection services) => services.AddSingleton<CredentialWriter>();

    public static RouteGroupBuilder MapCredentials(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("");
        group.MapPost("/users/{userId}/credentials", CreateAsync).Accepts<CreateCredentialRequest>("application/json").RequireAuthorization(ApiKeyScopes.CredentialsWrite)
            .WithIdempotencyKey();
        group.MapGet("/users/{userId}/credentials", ListAsync).RequireAuthorization(ApiKeyScopes.CredentialsRead)
            .WithSummary("List a user's credentials with their health, oldest first; " + ListingCursor.QueryHelp);
        group.MapGet("/credentials/{id}", GetAsync).RequireAuthorization(ApiKeyScopes.CredentialsRead).WithEntityTag(VersionedTable.Credentials);
        group.MapPatch("/credentials/{id}", UpdateAsync).Accepts<UpdateCredentialRequest>("application/json").RequireAuthorization(ApiKeyScopes.CredentialsWrite)
            .WithEntityTag(VersionedTable.Credentials);
        group.MapDelete("/credentials/{id}", DeleteAsync).RequireAuthorization(ApiKeyScopes.CredentialsWrite).WithEntityTag(VersionedTable.Credentials);
        return group;
    }

    private static async Task<Created<CredentialResponse>> CreateAsync(string userId, HttpContext http, CredentialWriter writer, BrokerOptions options,
        TimeProvider time)
    {
        var body = await JsonRequestBody.ReadAsync<CreateCredentialRequest>(http.Request, options.MaxRequestBytes);
        var record = await writer.CreateAsync(http.Caller(), userId, body, http.RemoteAddress());
        var now = time.GetUtcNow();
        return TypedResults.Created($"/api/v1/credentials/{record.Id}",
            CredentialResponse.From(record, now, CredentialHealthView.Of(record, null, now, options.CredentialExpiringWindow)));
    }

    private static async Task<Ok<CredentialPage>> ListAsync(string userId, string? limit, string? cursor, HttpContext http, Database database,
        BrokerOptions options, TimeProvider time)
    {
        var (pageSize, after) = ListingCursor.ParsePage(limit, cursor, "cred_", "credential");
        http.Caller().EnsureCanSee(userId, "User");
        var now = time.GetUtcNow();
        var page = await database.ReadAsync(c => UserStore.Exists(c, null, userId)
            ? CredentialListing.Read(c, userId, statuses: null, after, pageSize, now, options.CredentialExpiringWindow)
            : null);
        return TypedResults.Ok(page ?? throw new NotFoundException("User"));
    }

    /// <summary>
    /// A user's credentials with their health and usage as the web UI shows them: the listing's
    /// largest page (<see cref="ListingCursor.MaxLimit"/>); null when the user does not exist.
    /// </summary>
    internal static async Task<IReadOnlyList<CredentialResponse>?> ReadForUserAsync(Database database, string userId, DateTimeOffset now, TimeSpan expiringWindow) =>
        (await database.ReadAsync(c => UserStore.Exists(c, null, userId)
            ? CredentialListing.Read(c, userId, statuses: null, after: null, ListingCursor.MaxLimit, now, expiringWindow)
            : null))?.Items;

    private static async Task<Ok<CredentialResponse>> GetAsync(string id, HttpContext http, Database database, BrokerOptions options, TimeProvider time) =>
        TypedResults.Ok(await ReadOneAsync(database, http.Caller(), id, time.GetUtcNow(), options.CredentialExpiringWindow));

    /// <summary>One credential the caller may see (else <see cref="NotFoundException"/>), with health and this month's use per workspace.</summary>
    internal static async Task<CredentialResponse> ReadOneAsync(Database database, Caller caller, string id, DateTimeOffset now, TimeSpan expiringWindow)
    {
        var (record, health, byWorkspace) = await database.ReadAsync(c => (CredentialStore.Find(c, null, id), CredentialHealthStore.Find(c, id),
            Leases.AiRequestGrantStore.ByWorkspace(c, null, id, MonthlyQuota.MonthOf(now))));
        var visible = CredentialWriter.Visible(caller, record);
        return CredentialResponse.From(visible, now, CredentialHealthView.Of(visible, health, now, expiringWindow),
            visible.Kind == CredentialKinds.Ai ? byWorkspace : null);
    }

    private static async Task<Ok<CredentialResponse>> UpdateAsync(string id, HttpContext http, CredentialWriter writer, Database database, BrokerOptions options,
        TimeProvider time)
    {
        var body = await JsonRequestBody.ReadAsync<UpdateCredentialRequest>(http.Request, options.MaxRequestBytes);
        var record = await writer.UpdateAsync(http.Caller(), id, body, http.RemoteAddress());
        var health = await database.ReadAsync(c => CredentialHealthStore.Find(c, id));
        var now = time.GetUtcNow();
        return TypedResults.Ok(CredentialResponse.From(record, now, CredentialHealthView.Of(record, health, now, options.CredentialExpiringWindow)));
    }

    private static async Task<NoContent> DeleteAsync(string id, HttpContext http, CredentialWriter writer)
    {
        await writer.DeleteAsync(http.Caller(), id, http.RemoteAddress());
        return TypedResults.NoContent();
    }
}
