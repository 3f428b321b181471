using Microsoft.AspNetCore.Http.HttpResults;
using Xares.Broker.Api;
using Xares.Broker.ApiKeys;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.CredentialHealth;

/// <summary>
/// REST: POST /api/v1/credentials/{id}/test and GET /api/v1/credentials?status=&amp;userId= (the
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
            .WithSummary("List credentials with their health; status=error,expiring,active,unchecked filters, userId narrows to one user.");
        return group;
    }

    private static async Task<Ok<CredentialTestResult>> TestAsync(string id, HttpContext http, CredentialTester tester)
    {
        var result = await tester.TestAsync(id, http.Caller(), CredentialTester.TriggerApi, http.RemoteAddress(), http.RequestAborted);
        return TypedResults.Ok(result ?? throw new NotFoundException("Credential"));
    }

    private static async Task<Ok<CredentialList>> ListAsync(string? status, string? userId, HttpContext http, Database database, BrokerOptions options,
        TimeProvider time)
    {
        var wanted = ParseStatuses(status);
        var caller = http.Caller();
        var user = userId ?? caller.BoundUserId;
        if (user is not null)
        {
            caller.EnsureCanSee(user, "User");
        }
        var found = await database.ReadAsync(c => user is not null && !UserStore.Exists(c, null, user)
            ? default
            : (Records: user is null ? CredentialStore.ListAll(c) : CredentialStore.ListForUser(c, user), Health: CredentialHealthStore.ForUser(c, user)));
        if (found.Records is null)
        {
            throw new NotFoundException("User");
        }
        var now = time.GetUtcNow();
        var items = found.Records
            .Select(r => CredentialResponse.From(r, now, CredentialHealthView.Of(r, found.Health.GetValueOrDefault(r.Id), now, options.CredentialExpiringWindow)))
            .Where(r => wanted is null || wanted.Contains(r.Health.Status))
            .ToList();
        return TypedResults.Ok(new CredentialList(items));
    }

    private static HashSet<string>? ParseStatuses(string? status)
    {
        if (status is null)
        {
            return null;
        }
        var statuses = status.Split(',', StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        if (statuses.Count == 0 || !statuses.All(CredentialHealthView.Statuses.Contains))
        {
            throw ValidationException.For("status", "status must be a comma-separated list of: active, error, expiring, unchecked.");
        }
        return statuses;
    }
}
