using Microsoft.AspNetCore.Http.HttpResults;
using Xares.Broker.Api;
using Xares.Broker.Api.Idempotency;
using Xares.Broker.Api.Preconditions;
using Xares.Broker.ApiKeys;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.Workspaces;

internal static class WorkspaceEndpoints
{
    public sealed record CreateWorkspaceBody(string? UserId, string? Name, IReadOnlyList<string>? AllowedHosts,
        [property: System.ComponentModel.Description("Repositories the workspace works on, [{host, name: \"owner/repo\", access: \"read\"|\"write\"}]: on those hosts git gets minted tokens scoped to them, and nothing for other repositories.")]
        System.Text.Json.JsonElement Repositories);

    public sealed record SessionSummary(string Id, DateTimeOffset ExpiresAt);

    public sealed record WorkspaceResponse(string Id, string UserId, string Name, IReadOnlyList<string>? AllowedHosts, DateTimeOffset CreatedAt,
        DateTimeOffset? RevokedAt, string? ContainerId, string Status, IReadOnlyList<SessionSummary> ActiveSessions, string? ContainerState,
        IReadOnlyList<RepositoryGrant>? Repositories,
        [property: System.ComponentModel.Description("The Docker engine (its --docker name) containerId runs on; container ids are unique only within one engine.")]
        string? ContainerEngine);

    public sealed record CreatedWorkspaceResponse(string Id, string UserId, string Name, IReadOnlyList<string>? AllowedHosts, DateTimeOffset CreatedAt,
        string BootstrapToken, DateTimeOffset BootstrapExpiresAt, IReadOnlyList<RepositoryGrant>? Repositories = null)
    {
        public override string ToString() => $"{nameof(CreatedWorkspaceResponse)} {{ Id = {Id}, UserId = {UserId}, BootstrapToken = [redacted] }}";
    }

    public sealed record BootstrapResponse(string WorkspaceId, string BootstrapToken, DateTimeOffset BootstrapExpiresAt)
    {
        public override string ToString() => $"{nameof(BootstrapResponse)} {{ WorkspaceId = {WorkspaceId}, BootstrapToken = [redacted], BootstrapExpiresAt = {BootstrapExpiresAt:O} }}";
    }

    /// <summary>One page, oldest first; <see cref="NextCursor"/> fetches the next (null on the last page).</summary>
    public sealed record WorkspaceList(IReadOnlyList<WorkspaceResponse> Items, string? NextCursor = null);

    public static IServiceCollection AddWorkspaces(this IServiceCollection services) =>
        services.AddSingleton<WorkspaceLifecycle>().AddSingleton<SessionService>();

    public static RouteGroupBuilder MapWorkspaces(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/workspaces").WithTags("Workspaces");
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiKeyScopes.WorkspacesWrite).WithIdempotencyKey(answerCarriesSecret: true);
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeyScopes.WorkspacesRead)
            .WithSummary("List workspaces, oldest first; userId narrows to one user; " + ListingCursor.QueryHelp);
        group.MapGet("/{id}", GetAsync).RequireAuthorization(ApiKeyScopes.WorkspacesRead).WithEntityTag(VersionedTable.Workspaces);
        group.MapPatch("/{id}", UpdateAsync).Accepts<UpdateWorkspaceRequest>("application/json").RequireAuthorization(ApiKeyScopes.WorkspacesWrite)
            .WithEntityTag(VersionedTable.Workspaces)
            .WithSummary("Change a workspace's name, allowedHosts or repositories (JSON merge patch); narrowing revokes the leases (and minted tokens) no longer allowed");
        group.MapDelete("/{id}", RevokeAsync).RequireAuthorization(ApiKeyScopes.WorkspacesWrite).WithEntityTag(VersionedTable.Workspaces);
        group.MapPost("/{id}/bootstrap", MintBootstrapAsync).RequireAuthorization(ApiKeyScopes.WorkspacesWrite).WithIdempotencyKey(answerCarriesSecret: true);
        return group;
    }

    private static async Task<Created<CreatedWorkspaceResponse>> CreateAsync(CreateWorkspaceBody body, HttpContext http, Database database, WorkspaceLifecycle lifecycle)
    {
        var caller = http.Caller();
        if (string.IsNullOrWhiteSpace(body.UserId))
        {
            throw ValidationException.For("userId", "userId is required.");
        }
        var errors = new FieldErrors();
        var name = WorkspaceInput.Name(errors, body.Name);
        WorkspaceInput.AllowedHosts(errors, body.AllowedHosts);
        var (_, repositories) = WorkspaceInput.RepositoriesChange(errors, body.Repositories);
        errors.ThrowIfAny();
        caller.EnsureCanSee(body.UserId, "The user");
        if (!await database.ReadAsync(c => UserStore.Exists(c, null, body.UserId)))
        {
            throw new NotFoundException("The user");
        }
        var created = await lifecycle.CreateAsync(body.UserId, name!, body.AllowedHosts, caller.Actor, http.RemoteAddress(), repositories);
        var ws = created.Workspace;
        return TypedResults.Created($"/api/v1/workspaces/{ws.Id}",
            new CreatedWorkspaceResponse(ws.Id, ws.UserId, ws.Name, ws.AllowedHosts, ws.CreatedAt, created.BootstrapToken, created.BootstrapExpiresAt, ws.Repositories));
    }

    private static async Task<Ok<WorkspaceList>> ListAsync(string? userId, string? limit, string? cursor, HttpContext http, Database database, TimeProvider time)
    {
        var (pageSize, after) = ListingCursor.ParsePage(limit, cursor, "ws_", "workspace");
        var caller = http.Caller();
        var filter = caller.BoundUserId ?? userId;
        if (userId is not null && !caller.CanSee(userId))
        {
            return TypedResults.Ok(new WorkspaceList([]));
        }
        var (items, nextCursor) = await database.ReadAsync(c =>
        {
            var (workspaces, next) = ListingCursor.Page(
                WorkspaceStore.ListAfter(c, filter, after ?? ListingPosition.Start, pageSize + 1), pageSize, w => ListingPosition.Of(w.CreatedAt, w.Id));
            var sessions = SessionStore.ActiveForWorkspaces(c, workspaces.Select(w => w.Id), time.GetUtcNow());
            return (workspaces.ConvertAll(w => ToResponse(w, sessions[w.Id])), next);
        });
        return TypedResults.Ok(new WorkspaceList(items, nextCursor));
    }

    private static async Task<Results<Ok<WorkspaceResponse>, NotFound>> GetAsync(string id, HttpContext http, Database database, TimeProvider time)
    {
        var response = await database.ReadAsync(c => WorkspaceStore.Find(c, null, id) is { } w && http.Caller().CanSee(w.UserId)
            ? ToResponse(w, SessionStore.ActiveForWorkspaces(c, [w.Id], time.GetUtcNow())[w.Id])
            : null);
        return response is null ? throw new NotFoundException("The workspace") : TypedResults.Ok(response);
    }

    private static async Task<Ok<WorkspaceResponse>> UpdateAsync(string id, HttpContext http, Database database, WorkspaceLifecycle lifecycle,
        BrokerOptions options, TimeProvider time)
    {
        var body = await JsonRequestBody.ReadAsync<UpdateWorkspaceRequest>(http.Request, options.MaxRequestBytes);
        var patch = WorkspaceInput.ForUpdate(body);
        var updated = await lifecycle.UpdateAsync(http.Caller(), id, patch, http.RemoteAddress());
        var sessions = await database.ReadAsync(c => SessionStore.ActiveForWorkspaces(c, [id], time.GetUtcNow())[id]);
        return TypedResults.Ok(ToResponse(updated, sessions));
    }

    private static async Task<NoContent> RevokeAsync(string id, HttpContext http, WorkspaceLifecycle lifecycle)
    {
        await lifecycle.RevokeAsync(http.Caller(), id, http.RemoteAddress(), "revoked through the REST API");
        return TypedResults.NoContent();
    }

    private static async Task<Created<BootstrapResponse>> MintBootstrapAsync(string id, HttpContext http, Database database, WorkspaceLifecycle lifecycle)
    {
        await EnsureVisibleAsync(id, http, database);
        var minted = await lifecycle.MintBootstrapAsync(id, http.Caller().Actor, http.RemoteAddress())
            ?? throw new ConflictException("The workspace is revoked; create a new one.");
        return TypedResults.Created($"/api/v1/workspaces/{id}", new BootstrapResponse(id, minted.Token, minted.ExpiresAt));
    }

    private static async Task EnsureVisibleAsync(string id, HttpContext http, Database database)
    {
        var workspace = await database.ReadAsync(c => WorkspaceStore.Find(c, null, id));
        if (workspace is null || !http.Caller().CanSee(workspace.UserId))
        {
            throw new NotFoundException("The workspace");
        }
    }

    private static WorkspaceResponse ToResponse(WorkspaceRecord w, IEnumerable<(string Id, DateTimeOffset ExpiresAt)> activeSessions) => new(
        w.Id, w.UserId, w.Name, w.AllowedHosts, w.CreatedAt, w.RevokedAt, w.ContainerId,
        // "failing": the Docker watcher could not bootstrap the workspace's container.
        w.RevokedAt is not null ? "revoked" : w.ContainerState == "failing" ? "failing" : "active",
        activeSessions.Select(s => new SessionSummary(s.Id, s.ExpiresAt)).ToList(), w.ContainerState, w.Repositories, w.ContainerEngine);
}
