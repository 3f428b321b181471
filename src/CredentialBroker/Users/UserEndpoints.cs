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
        var email = errors.Label("email", body.Email, required: false, maxLength: 320);
        if (email is not null && (!email.Contains('@', StringComparison.Ordinal) || email.Any(char.IsWhiteSpace)))
        {
            errors.Add("email", "email must be an e-mail address.");
        }
        errors.ThrowIfAny();

        var user = new UserRecord(OpaqueToken.NewId("usr_"), name!, email, time.GetUtcNow());
        var remote = http.RemoteAddress();
        await writes.ExecuteAsync((c, t) =>
        {
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

    private static async Task<NoContent> DeleteAsync(string id, HttpContext http, UserDeletion deletion)
    {
        await deletion.DeleteAsync(http.Caller(), id, http.RemoteAddress());
        return TypedResults.NoContent();
    }
}
