using Xares.Broker.ApiKeys;

namespace Xares.Broker.Api;

/// <summary>One authorization policy per scope, named after it; `admin` satisfies every policy.</summary>
internal static class ScopePolicies
{
    public static IServiceCollection AddScopePolicies(this IServiceCollection services)
    {
        var authorization = services.AddAuthorizationBuilder();
        foreach (var scope in ApiKeyScopes.All)
        {
            authorization.AddPolicy(scope, policy => policy
                .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireAssertion(context => context.User.HasClaim(CallerClaims.Scope, scope) || context.User.HasClaim(CallerClaims.Scope, ApiKeyScopes.Admin)));
        }
        return services;
    }
}
