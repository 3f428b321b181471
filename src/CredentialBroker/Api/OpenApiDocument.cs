using System.Globalization;
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
                BearerFormat = "xar_…",
                Description = "An API key (xar_…), minted with `xares-broker admin create-key` or POST /api/v1/api-keys.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", document)] = [] }];
            // The document describes every broker alike (and docs/openapi.json is checked against it): clients bring the address.
            document.Servers = null;
            // One tag per resource, in a stable order, so references and generated clients group by it.
            document.Tags = new HashSet<OpenApiTag>(document.Paths.Values
                .SelectMany(p => p.Operations?.Values.AsEnumerable() ?? [])
                .SelectMany(o => o.Tags ?? new HashSet<OpenApiTagReference>())
                .Select(t => t.Name!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
                .Select(name => new OpenApiTag { Name = name }));
            return Task.CompletedTask;
        }).AddOperationTransformer((operation, context, _) =>
        {
            var (operationId, tag) = OpenApiOperationNames.Of(context.Description.HttpMethod ?? "GET", context.Description.RelativePath ?? "");
            operation.OperationId = operationId;
            operation.Tags = new HashSet<OpenApiTagReference> { new(tag, context.Document) };
            // Listings read limit as text to report a bad one per field; what they accept is a whole number.
            if (operation.Parameters?.FirstOrDefault(p => p is { In: ParameterLocation.Query, Name: "limit" }) is OpenApiParameter limit)
            {
                limit.Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = ListingCursor.MaxLimit.ToString(CultureInfo.InvariantCulture),
                    Default = ListingCursor.DefaultLimit,
                };
                limit.Description ??= "Page size.";
            }
            // The scope an operation needs, as the role list of its bearer requirement, so clients
            // (and the access-matrix test) can tell which key an operation takes; admin satisfies all.
            var scope = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().LastOrDefault()?.Policy;
            // Probes (healthz, readyz) take no key: an empty list overrides the document-wide requirement.
            operation.Security = scope is null
                ? []
                : [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", context.Document)] = [scope] }];
            return Task.CompletedTask;
        }).AddProblemResponses());

    public static WebApplication MapBrokerOpenApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/docs", options => options.WithTitle("Xares broker API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));
        return app;
    }
}
