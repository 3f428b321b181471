using Microsoft.AspNetCore.Http.HttpResults;
using Xares.Broker.Api;
using Xares.Broker.Api.Idempotency;
using Xares.Broker.Api.Preconditions;
using Xares.Broker.ApiKeys;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Minted;

/// <summary>
/// REST: /api/v1/github-apps (admin). The private key is write-only: responses carry its public
/// key's fingerprint only.
/// </summary>
internal static class GitHubAppEndpoints
{
    public static IServiceCollection AddMintedCredentials(this IServiceCollection services) =>
        services.AddSingleton<GitHubAppRegistry>()
            .AddSingleton<GitHubAppClient>()
            .AddSingleton<MintedGitSource>()
            .AddHostedService<UpstreamRevocationWorker>();

    public static RouteGroupBuilder MapGitHubApps(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/github-apps").WithTags("GitHub Apps");
        group.MapPost("/", CreateAsync).Accepts<CreateGitHubAppRequest>("application/json").RequireAuthorization(ApiKeyScopes.Admin).WithIdempotencyKey()
            .WithSummary("Register a GitHub App (app id, private key PEM, apiUrl, gitUrl); workspaces naming repositories on its git host get installation tokens minted per workspace");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeyScopes.Admin)
            .WithSummary("List GitHub Apps, oldest first; " + ListingCursor.QueryHelp);
        group.MapGet("/{id}", GetAsync).RequireAuthorization(ApiKeyScopes.Admin).WithEntityTag(VersionedTable.GitHubApps);
        group.MapGet("/{id}/installations", InstallationsAsync).RequireAuthorization(ApiKeyScopes.Admin)
            .WithSummary("The app's installations as GitHub lists them (GET /app/installations, first 100)");
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(ApiKeyScopes.Admin).WithEntityTag(VersionedTable.GitHubApps)
            .WithSummary("Delete a GitHub App; every token minted through it is revoked, here at once and at GitHub in the background");
        return group;
    }

    private static async Task<Created<GitHubAppResponse>> CreateAsync(HttpContext http, GitHubAppRegistry registry, BrokerOptions options)
    {
        EnsureUnbound(http);
        var body = await JsonRequestBody.ReadAsync<CreateGitHubAppRequest>(http.Request, options.MaxRequestBytes);
        var record = await registry.RegisterAsync(http.Caller(), body, http.RemoteAddress());
        return TypedResults.Created($"/api/v1/github-apps/{record.Id}", GitHubAppResponse.From(record));
    }

    private static async Task<Ok<GitHubAppList>> ListAsync(string? limit, string? cursor, HttpContext http, Database database)
    {
        EnsureUnbound(http);
        var (pageSize, after) = ListingCursor.ParsePage(limit, cursor, "ghapp_", "GitHub App");
        var (items, next) = await database.ReadAsync(c => ListingCursor.Page(
            GitHubAppStore.ListAfter(c, after ?? ListingPosition.Start, pageSize + 1), pageSize, a => ListingPosition.Of(a.CreatedAt, a.Id)));
        return TypedResults.Ok(new GitHubAppList(items.ConvertAll(GitHubAppResponse.From), next));
    }

    private static async Task<Ok<GitHubAppResponse>> GetAsync(string id, HttpContext http, Database database)
    {
        EnsureUnbound(http);
        var app = await database.ReadAsync(c => GitHubAppStore.Find(c, null, id)) ?? throw new NotFoundException("The GitHub App");
        return TypedResults.Ok(GitHubAppResponse.From(app));
    }

    private static async Task<Ok<InstallationList>> InstallationsAsync(string id, HttpContext http, Database database, GitHubAppRegistry registry, GitHubAppClient github)
    {
        EnsureUnbound(http);
        var app = await database.ReadAsync(c => GitHubAppStore.Find(c, null, id)) ?? throw new NotFoundException("The GitHub App");
        using var key = registry.OpenKey(app);
        var result = await github.ListInstallationsAsync(app, key, http.RequestAborted);
        return TypedResults.Ok(new InstallationList(result.Value ?? throw new UpstreamFailedException(result.Error!)));
    }

    /// <summary>Apps serve every user's workspaces: a key bound to one user may not see or change them.</summary>
    private static void EnsureUnbound(HttpContext http)
    {
        if (http.Caller().BoundUserId is not null)
        {
            throw new ForbiddenException("GitHub Apps are managed with an admin API key that is bound to no user.");
        }
    }

    private static async Task<NoContent> DeleteAsync(string id, HttpContext http, GitHubAppRegistry registry)
    {
        EnsureUnbound(http);
        await registry.DeleteAsync(http.Caller(), id, http.RemoteAddress());
        return TypedResults.NoContent();
    }
}
