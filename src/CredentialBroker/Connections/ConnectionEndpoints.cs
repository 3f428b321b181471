using Microsoft.AspNetCore.Http.HttpResults;
using Xares.Broker.Api;
using Xares.Broker.Api.Idempotency;
using Xares.Broker.Api.Preconditions;
using Xares.Broker.ApiKeys;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.Connections;

/// <summary>
/// REST: /api/v1/oauth-providers (admin; the client secret is write-only) and a user's OAuth
/// connections (device flow start, status, disconnect). No response carries a token or device code.
/// </summary>
internal static class ConnectionEndpoints
{
    public static IServiceCollection AddConnections(this IServiceCollection services) =>
        services.AddSingleton<OAuthClient>()
            .AddSingleton<AuthorizationRequestStore>()
            .AddSingleton<RedirectGrantFlow>()
            .AddSingleton<OAuthProviderRegistry>()
            .AddSingleton<ConnectionLifecycle>()
            .AddSingleton<ConnectionRefresher>()
            .AddSingleton<ConnectionGitSource>()
            .AddHostedService<DeviceGrantPoller>()
            .AddHostedService<ConnectionRevocationWorker>();

    public static IEndpointRouteBuilder MapConnections(this IEndpointRouteBuilder api)
    {
        var providers = api.MapGroup("/oauth-providers").WithTags("OAuth connections");
        providers.MapPost("/", CreateProviderAsync).Accepts<CreateOAuthProviderRequest>("application/json").RequireAuthorization(ApiKeyScopes.Admin).WithIdempotencyKey()
            .WithSummary("Register an OAuth 2.0 provider (endpoints, client id and secret, scopes, git host and username); users connect accounts to it");
        providers.MapGet("/", ListProvidersAsync).RequireAuthorization(ApiKeyScopes.Admin).WithSummary("List OAuth providers, oldest first; " + ListingCursor.QueryHelp);
        providers.MapGet("/{id}", GetProviderAsync).RequireAuthorization(ApiKeyScopes.Admin).WithEntityTag(VersionedTable.OAuthProviders);
        providers.MapDelete("/{id}", DeleteProviderAsync).RequireAuthorization(ApiKeyScopes.Admin).WithEntityTag(VersionedTable.OAuthProviders)
            .WithSummary("Delete an OAuth provider no connection uses (409 otherwise: disconnect them first)");

        var connections = api.MapGroup("").WithTags("OAuth connections");
        connections.MapPost("/users/{userId}/connections", StartAsync).Accepts<CreateConnectionRequest>("application/json")
            .RequireAuthorization(ApiKeyScopes.CredentialsWrite).WithIdempotencyKey()
            .WithSummary("Start connecting the user's account (device authorization grant): show verificationUri and userCode to the user; the broker polls and stores the tokens");
        connections.MapGet("/users/{userId}/connections", ListAsync).RequireAuthorization(ApiKeyScopes.CredentialsRead)
            .WithSummary("The user's connections, oldest first; " + ListingCursor.QueryHelp);
        connections.MapGet("/connections/{id}", GetAsync).RequireAuthorization(ApiKeyScopes.CredentialsRead).WithEntityTag(VersionedTable.OAuthConnections)
            .WithSummary("A connection's status: pending | active | reconnect_required | denied | expired");
        connections.MapDelete("/connections/{id}", DeleteAsync).RequireAuthorization(ApiKeyScopes.CredentialsWrite).WithEntityTag(VersionedTable.OAuthConnections)
            .WithSummary("Disconnect: its leases end at once and its tokens are revoked at the provider (RFC 7009) in the background where offered");
        return api;
    }

    // Providers serve every user: a key bound to one user may not manage them, whatever its scopes.
    private static void EnsureUnbound(HttpContext http)
    {
        if (http.Caller().BoundUserId is not null)
        {
            throw new ForbiddenException("OAuth providers are managed with an admin API key that is bound to no user.");
        }
    }

    private static async Task<Created<OAuthProviderResponse>> CreateProviderAsync(HttpContext http, OAuthProviderRegistry registry, BrokerOptions options)
    {
        EnsureUnbound(http);
        var body = await JsonRequestBody.ReadAsync<CreateOAuthProviderRequest>(http.Request, options.MaxRequestBytes);
        var record = await registry.RegisterAsync(http.Caller(), body, http.RemoteAddress());
        return TypedResults.Created($"/api/v1/oauth-providers/{record.Id}", OAuthProviderResponse.From(record));
    }

    private static async Task<Ok<OAuthProviderList>> ListProvidersAsync(string? limit, string? cursor, HttpContext http, Database database)
    {
        EnsureUnbound(http);
        var (pageSize, after) = ListingCursor.ParsePage(limit, cursor, OAuthProviderRecord.IdPrefix, "OAuth provider");
        var (items, next) = await database.ReadAsync(c => ListingCursor.Page(
            OAuthProviderStore.ListAfter(c, after ?? ListingPosition.Start, pageSize + 1), pageSize, p => ListingPosition.Of(p.CreatedAt, p.Id)));
        return TypedResults.Ok(new OAuthProviderList(items.ConvertAll(OAuthProviderResponse.From), next));
    }

    private static async Task<Ok<OAuthProviderResponse>> GetProviderAsync(string id, HttpContext http, Database database)
    {
        EnsureUnbound(http);
        return TypedResults.Ok(OAuthProviderResponse.From(await database.ReadAsync(c => OAuthProviderStore.Find(c, null, id)) ?? throw new NotFoundException("The OAuth provider")));
    }

    private static async Task<NoContent> DeleteProviderAsync(string id, HttpContext http, OAuthProviderRegistry registry)
    {
        EnsureUnbound(http);
        await registry.DeleteAsync(http.Caller(), id, http.RemoteAddress());
        return TypedResults.NoContent();
    }

    private static async Task<Created<ConnectionResponse>> StartAsync(string userId, HttpContext http, ConnectionLifecycle lifecycle, BrokerOptions options)
    {
        var caller = http.Caller();
        caller.EnsureCanSee(userId, "The user");
        var body = await JsonRequestBody.ReadAsync<CreateConnectionRequest>(http.Request, options.MaxRequestBytes);
        if (string.IsNullOrWhiteSpace(body.ProviderId))
        {
            throw ValidationException.For("providerId", "providerId is required: the OAuth provider's id or name.");
        }
        var connection = await lifecycle.StartAsync(userId, body.ProviderId.Trim(), null, caller.Actor, http.RemoteAddress(), http.RequestAborted);
        return TypedResults.Created($"/api/v1/connections/{connection.Id}", ConnectionResponse.From(connection));
    }

    private static async Task<Ok<ConnectionList>> ListAsync(string userId, string? limit, string? cursor, HttpContext http, Database database)
    {
        http.Caller().EnsureCanSee(userId, "The user");
        var (pageSize, after) = ListingCursor.ParsePage(limit, cursor, ConnectionRecord.IdPrefix, "connection");
        var (exists, (items, next)) = await database.ReadAsync(c => (UserStore.Exists(c, null, userId), ListingCursor.Page(
            ConnectionStore.ListForUserAfter(c, userId, after ?? ListingPosition.Start, pageSize + 1), pageSize, k => ListingPosition.Of(k.CreatedAt, k.Id))));
        return exists ? TypedResults.Ok(new ConnectionList(items.ConvertAll(ConnectionResponse.From), next)) : throw new NotFoundException("The user");
    }

    private static async Task<Ok<ConnectionResponse>> GetAsync(string id, HttpContext http, Database database)
    {
        var connection = await database.ReadAsync(c => ConnectionStore.Find(c, null, id));
        if (connection is null || !http.Caller().CanSee(connection.UserId))
        {
            throw new NotFoundException("The connection");
        }
        return TypedResults.Ok(ConnectionResponse.From(connection));
    }

    private static async Task<NoContent> DeleteAsync(string id, HttpContext http, ConnectionLifecycle lifecycle)
    {
        var caller = http.Caller();
        await lifecycle.DisconnectAsync(id, caller, caller.Actor, http.RemoteAddress());
        return TypedResults.NoContent();
    }
}
