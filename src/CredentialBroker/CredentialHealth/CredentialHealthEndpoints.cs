using Microsoft.AspNetCore.Http.HttpResults;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// REST: POST /api/v1/credentials/{id}/test and GET /api/v1/credentials?status=&amp;userId=&amp;limit=&amp;cursor= (the
/// health listing). Testing needs credentials:write: it makes the broker use the secret and
/// records a result. A user-bound key tests and lists only its own user's credentials.
/// </summary>
internal static class CredentialHealthEndpoints
{
    public const string LeaseName = "credential-health";
    private static readonly TimeSpan LeaseLifetime = TimeSpan.FromMinutes(2);

    public static IServiceCollection AddCredentialHealth(this IServiceCollection services, BrokerOptions options)
    {
        OutboundAllowList allow;
        try
        {
            allow = OutboundAllowList.Parse(options.OutboundAllow);
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException(ex.Message, ex); // reported as a start-up error, not a crash
        }
        services.AddSingleton(allow);
        services.AddSingleton(_ => new OutboundHttp(allow));
        services.AddSingleton<CredentialTester>();
        if (options.CredentialTestInterval > TimeSpan.Zero)
        {
            services.AddHostedService(sp => ActivatorUtilities.CreateInstance<CredentialHealthMonitor>(sp, LeaderLease.For(sp, LeaseName, LeaseLifetime)));
        }
        return services;
    }

    public static RouteGroupBuilder MapCredentialHealth(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("");
        group.MapPost("/credentials/{id}/test", TestAsync).RequireAuthorization(ApiKeyScopes.CredentialsWrite)
            .WithSummary("Test a credential against its provider's documented endpoint (no redirects, no private addresses unless allow-listed).");
        group.MapGet("/credentials", ListAsync).RequireAuthorization(ApiKeyScopes.CredentialsRead)
            .WithSummary("List credentials with their health, oldest first; status=error,expiring,active,unchecked filters, userId narrows to one user; "
                + ListingCursor.QueryHelp);
        return group;
    }

    private static async Task<Ok<CredentialTestResult>> TestAsync(string id, HttpContext http, CredentialTester tester)
    {
        var result = await tester.TestAsync(id, http.Caller(), CredentialTester.TriggerApi, http.RemoteAddress(), http.RequestAborted);
        return TypedResults.Ok(result ?? throw new NotFoundException("Credential"));
    }

    private static async Task<Ok<CredentialPage>> ListAsync(string? status, string? userId, string? limit, string? cursor, HttpContext http, Database database,
        BrokerOptions options, TimeProvider time)
    {
        var errors = new FieldErrors();
        var wanted = ParseStatuses(errors, status);
        var (pageSize, after) = ListingCursor.ParsePage(errors, limit, cursor, "cred_");
        errors.ThrowIfAny("The credential listing query is not valid.");
        var caller = http.Caller();
        var user = userId ?? caller.BoundUserId;
        if (user is not null)
        {
            caller.EnsureCanSee(user, "User");
        }
        var now = time.GetUtcNow();
        var page = await database.ReadAsync(c => user is not null && !UserStore.Exists(c, null, user)
            ? null
            : CredentialListing.Read(c, user, wanted, after, pageSize, now, options.CredentialExpiringWindow));
        return TypedResults.Ok(page ?? throw new NotFoundException("User"));
    }

    private static HashSet<string>? ParseStatuses(FieldErrors errors, string? status)
    {
        if (status is null)
        {
            return null;
        }
        var statuses = status.Split(',', StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        if (statuses.Count == 0 || !statuses.All(CredentialHealthView.Statuses.Contains))
        {
            errors.Add("status", "status must be a comma-separated list of: active, error, expiring, unchecked.");
        }
        return statuses;
    }
}
