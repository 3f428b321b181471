using Microsoft.AspNetCore.Http.HttpResults;
using Xares.Broker.Api;
using Xares.Broker.Api.Idempotency;
using Xares.Broker.Api.Preconditions;
using Xares.Broker.ApiKeys;
using Xares.Broker.Audit;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Security;
using Xares.Broker.Storage;

namespace Xares.Broker.Users;

/// <summary>REST: /api/v1/users. A user-bound API key sees only its own user; others are "not found".</summary>
internal static class UserEndpoints
{
    public static IServiceCollection AddUsers(this IServiceCollection services) => services.AddSingleton<UserDeletion>();

    public static RouteGroupBuilder MapUsers(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/users");
        group.MapPost("", CreateAsync).Accepts<CreateUserRequest>("application/json").RequireAuthorization(ApiKeyScopes.UsersWrite).WithIdempotencyKey();
        group.MapGet("", ListAsync).RequireAuthorization(ApiKeyScopes.UsersRead)
            .WithSummary("List users, oldest first; " + ListingCursor.QueryHelp);
        group.MapGet("/{id}", GetAsync).RequireAuthorization(ApiKeyScopes.UsersRead).WithEntityTag(VersionedTable.Users);
        group.MapPatch("/{id}", UpdateAsync).Accepts<UpdateUserRequest>("application/json").RequireAuthorization(ApiKeyScopes.UsersWrite)
            .WithEntityTag(VersionedTable.Users)
            .WithSummary("Change a user's name, email or oidcSubject (JSON merge patch; null removes email or oidcSubject); 409 when another user has the subject");
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(ApiKeyScopes.UsersWrite).WithEntityTag(VersionedTable.Users);
        return group;
    }

    private static async Task<Created<UserRecord>> CreateAsync(HttpContext http, WriteQueue writes, AuditChain audit, TimeProvider time, BrokerOptions options)
    {
        var caller = http.Caller();
        if (caller.BoundUserId is not null)
        {
            throw new ForbiddenException("A user-bound API key cannot create users.");
        }
        var body = await JsonRequestBody.ReadAsync<CreateUserRequest>(http.Request, options.MaxRequestBytes);
        var errors = new FieldErrors();
        var name = errors.Label("name", body.Name, required: true);
        var email = UserInput.Email(errors, body.Email);
        var subject = UserInput.Subject(errors, body.OidcSubject);
        errors.ThrowIfAny();

        var user = new UserRecord(OpaqueToken.NewId("usr_"), name!, email, time.GetUtcNow(), subject);
        var remote = http.RemoteAddress();
        await writes.ExecuteAsync((c, t) =>
        {
            UserInput.EnsureSubjectFree(c, t, subject, user.Id);
            UserStore.Insert(c, t, user);
            audit.Append(c, t, new AuditEntry(AuditActions.UserCreate, AuditOutcomes.Success) { Actor = caller.Actor, RemoteAddress = remote, UserId = user.Id });
        });
        return TypedResults.Created($"/api/v1/users/{user.Id}", user);
    }

    private static async Task<Ok<UserList>> ListAsync(string? limit, string? cursor, HttpContext http, Database database)
    {
        var (pageSize, after) = ListingCursor.ParsePage(limit, cursor, "usr_", "user");
        var caller = http.Caller();
        var (items, nextCursor) = await database.ReadAsync(c => ListingCursor.Page(
            UserStore.ListAfter(c, caller.BoundUserId, after ?? ListingPosition.Start, pageSize + 1), pageSize, u => ListingPosition.Of(u.CreatedAt, u.Id)));
        return TypedResults.Ok(new UserList(items, nextCursor));
    }

    private static async Task<Ok<UserRecord>> GetAsync(string id, HttpContext http, Database database)
    {
        http.Caller().EnsureCanSee(id, "User");
        var user = await database.ReadAsync(c => UserStore.Find(c, null, id));
        return TypedResults.Ok(user ?? throw new NotFoundException("User"));
    }

    private static async Task<Ok<UserRecord>> UpdateAsync(string id, HttpContext http, WriteQueue writes, AuditChain audit, BrokerOptions options)
    {
        var caller = http.Caller();
        caller.EnsureCanSee(id, "User"); // another user's id is not found, as everywhere
        if (caller.BoundUserId is not null)
        {
            // The subject decides who signs in to the web UI as this user: only an administrator's key links it.
            throw new ForbiddenException("A user-bound API key cannot change users.");
        }
        var body = await JsonRequestBody.ReadAsync<UpdateUserRequest>(http.Request, options.MaxRequestBytes);
        var remote = http.RemoteAddress();
        return TypedResults.Ok(await writes.ExecuteAsync((c, t) =>
        {
            var current = UserStore.Find(c, t, id) ?? throw new NotFoundException("User");
            var updated = UserInput.Apply(body, current);
            if (updated == current)
            {
                return current;
            }
            UserInput.EnsureSubjectFree(c, t, updated.OidcSubject, id);
            UserStore.Update(c, t, updated);
            audit.Append(c, t, new AuditEntry(AuditActions.UserUpdate, AuditOutcomes.Success)
            {
                Actor = caller.Actor, RemoteAddress = remote, UserId = id, Detail = Changes(current, updated),
            });
            return updated;
        }));
    }

    // Which fields changed, as they were and are (none of them is a secret).
    private static string Changes(UserRecord before, UserRecord after)
    {
        var changes = new List<string>();
        if (before.Name != after.Name)
        {
            changes.Add($"name \"{before.Name}\" -> \"{after.Name}\"");
        }
        if (before.Email != after.Email)
        {
            changes.Add($"email {before.Email ?? "none"} -> {after.Email ?? "none"}");
        }
        if (before.OidcSubject != after.OidcSubject)
        {
            changes.Add(after.OidcSubject is null ? "oidcSubject removed" : $"oidcSubject set to \"{after.OidcSubject}\"");
        }
        return string.Join("; ", changes);
    }

    private static async Task<NoContent> DeleteAsync(string id, HttpContext http, UserDeletion deletion)
    {
        await deletion.DeleteAsync(http.Caller(), id, http.RemoteAddress());
        return TypedResults.NoContent();
    }
}
