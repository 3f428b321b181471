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
/// REST: /api/v1/users/{userId}/credentials and /api/v1/credentials/{id}. Responses carry the
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
        group.MapGet("/users/{userId}/credentials", ListAsync).RequireAuthorization(ApiKeyScopes.CredentialsRead);
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

    private static async Task<Ok<CredentialList>> ListAsync(string userId, HttpContext http, Database database, BrokerOptions options, TimeProvider time)
    {
        http.Caller().EnsureCanSee(userId, "User");
        var found = await database.ReadAsync(c => UserStore.Exists(c, null, userId)
            ? (Records: CredentialStore.ListForUser(c, userId), Health: CredentialHealthStore.ForUser(c, userId))
            : default);
        var now = time.GetUtcNow();
        return found.Records is null
            ? throw new NotFoundException("User")
            : TypedResults.Ok(new CredentialList(found.Records.Select(r =>
                CredentialResponse.From(r, now, CredentialHealthView.Of(r, found.Health.GetValueOrDefault(r.Id), now, options.CredentialExpiringWindow))).ToList()));
    }

    private static async Task<Ok<CredentialResponse>> GetAsync(string id, HttpContext http, Database database, BrokerOptions options, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var (record, health, byWorkspace) = await database.ReadAsync(c => (CredentialStore.Find(c, null, id), CredentialHealthStore.Find(c, id),
            Leases.AiRequestGrantStore.ByWorkspace(c, null, id, MonthlyQuota.MonthOf(now))));
        var visible = CredentialWriter.Visible(http.Caller(), record);
        return TypedResults.Ok(CredentialResponse.From(visible, now, CredentialHealthView.Of(visible, health, now, options.CredentialExpiringWindow),
            visible.Kind == CredentialKinds.Ai ? byWorkspace : null));
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
