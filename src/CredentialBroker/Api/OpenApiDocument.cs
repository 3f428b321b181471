using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Xares.Broker.Api;

/// <summary>The REST document at /openapi/v1.json (generated from the endpoints) and its interactive reference at /docs.</summary>
internal static class OpenApiDocument
{
    // Bodies read through JsonRequestBody are positional records, which the generator would call
    // all-required; missing members are reported per field instead. These are the ones a request needs.
    private static readonly Dictionary<Type, string[]> RequiredMembers = new()
    {
        [typeof(Users.CreateUserRequest)] = ["name"],
        [typeof(Credentials.CreateCredentialRequest)] = ["kind", "provider", "secret"],
        [typeof(Credentials.UpdateCredentialRequest)] = [],
        [typeof(ApiKeys.CreateApiKeyRequest)] = ["name"],
        [typeof(ApiKeys.RotateApiKeyRequest)] = [],
        [typeof(Connections.CreateOAuthProviderRequest)] = ["name", "clientId", "clientSecret"],
        [typeof(Connections.CreateConnectionRequest)] = ["providerId"],
    };

    public static IServiceCollection AddBrokerOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", options => options.AddSchemaTransformer((schema, context, _) =>
        {
            if (RequiredMembers.TryGetValue(context.JsonTypeInfo.Type, out var required))
            {
                schema.Required = new HashSet<string>(required, StringComparer.Ordinal);
            }
            return Task.CompletedTask;
        }).AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Xares broker admin API",
                Version = "v1",
                Description = "Users, credentials, workspaces, leases, API keys and the audit log. Authenticate with `Authorization: Bearer xar_…`. "
                    + "Too many failed authentications from one client answer 429 (problem+json, Retry-After) until the window ends. "
                    + "Every response carries `X-Request-Id` (a sane incoming one is kept), also as `requestId` in problem+json.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["apiKey"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key (xar_…).",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", document)] = [] }];
            return Task.CompletedTask;
        }).AddOperationTransformer((operation, context, _) =>
        {
            // The scope an operation needs, as the role list of its bearer requirement, so clients
            // (and the access-matrix test) can tell which key an operation takes; admin satisfies all.
            var scope = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().LastOrDefault()?.Policy;
            if (scope is not null)
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", context.Document)] = [scope] }];
            }
            return Task.CompletedTask;
        }));

    public static WebApplication MapBrokerOpenApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/docs", options => options.WithTitle("Xares broker API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));
        return app;
    }
}
