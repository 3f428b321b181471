using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Xares.Broker.Api;

/// <summary>
/// Declares, on every operation, the 4xx answers the broker's shared pieces can give it (all
/// application/problem+json, see docs/errors.md), and the headers those pieces read and write:
/// authentication and its throttle (401, 403, 429), bodies (400, 413), ids (404), ETags on
/// single-resource reads and If-Match on updates and deletes (412), Idempotency-Key on creating
/// POSTs (400, 409, 410, 422).
/// </summary>
internal static class OpenApiProblemResponses
{
    public const string ProblemSchema = "ProblemDetails";
    public const string ValidationProblemSchema = "HttpValidationProblemDetails";
    private const string ProblemJson = "application/problem+json";

    private static readonly Dictionary<int, string> Descriptions = new()
    {
        [400] = "The request is not valid: `errors` names each field (validation), or it could not be read (bad-request, invalid-idempotency-key).",
        [401] = "No valid API key (unauthorized).",
        [403] = "The API key lacks the scope this operation needs (forbidden).",
        [404] = "Unknown id, or one this key may not see (not-found).",
        [409] = "The request clashes with the current state (conflict), or a request with this Idempotency-Key is still in flight (idempotency-key-in-use).",
        [410] = "The first response to this Idempotency-Key held a one-time secret and can no longer be replayed (idempotency-replay-expired).",
        [412] = "If-Match does not match the resource's current ETag (precondition-failed).",
        [413] = "The request body is too large (too-large).",
        [422] = "This Idempotency-Key was used with a different request (idempotency-key-mismatch).",
        [429] = "Too many failed authentications from this client; see Retry-After (too-many-failures).",
    };

    public static OpenApiOptions AddProblemResponses(this OpenApiOptions options) =>
        options.AddOperationTransformer((operation, context, _) =>
        {
            var description = context.Description;
            var route = "/" + description.RelativePath;
            var method = description.HttpMethod ?? "GET";
            var single = OpenApiOperationNames.IsSingle(route);
            var create = OpenApiOperationNames.IsCreate(method, route);
            var authorized = description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any()
                && !description.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any();
            var statuses = new SortedSet<int>();
            if (operation.RequestBody is not null || operation.Parameters?.Any(p => p.In == ParameterLocation.Query) == true || create)
            {
                statuses.Add(400);
            }
            if (authorized)
            {
                statuses.UnionWith([401, 403, 429]);
            }
            if (operation.Parameters?.Any(p => p.In == ParameterLocation.Path) == true)
            {
                statuses.Add(404);
            }
            if (operation.RequestBody is not null)
            {
                statuses.Add(413);
            }
            if (create)
            {
                statuses.UnionWith([409, 410, 422]);
                AddHeader(operation, "Idempotency-Key", "Retrying with the same key and body within 24 h replays the first response instead of creating again.");
            }
            if (single && method is "PATCH" or "PUT" or "DELETE")
            {
                statuses.Add(412);
                AddHeader(operation, "If-Match", "The ETag of the version read (from GET); the change is refused with 412 if the resource changed since.");
            }
            if (single && method == "GET" && operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse found)
            {
                found.Headers ??= new Dictionary<string, IOpenApiHeader>();
                found.Headers.TryAdd("ETag", new OpenApiHeader { Description = "The version of this resource, for If-Match.", Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
            }

            operation.Responses ??= [];
            foreach (var status in statuses)
            {
                operation.Responses.TryAdd(status.ToString(System.Globalization.CultureInfo.InvariantCulture), new OpenApiResponse());
            }
            // Whatever the endpoint declared itself, every 4xx has the problem body.
            foreach (var (code, response) in operation.Responses)
            {
                if (code.StartsWith('4') && response is OpenApiResponse problem)
                {
                    problem.Description = Descriptions.GetValueOrDefault(int.Parse(code, System.Globalization.CultureInfo.InvariantCulture), problem.Description ?? "A problem (see docs/errors.md).");
                    var schema = code == "400" ? ValidationProblemSchema : ProblemSchema;
                    problem.Content = new Dictionary<string, OpenApiMediaType>
                    {
                        [ProblemJson] = new() { Schema = new OpenApiSchemaReference(schema, context.Document) },
                    };
                }
            }
            return Task.CompletedTask;
        }).AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
            document.Components.Schemas[ProblemSchema] = Problem(validation: false);
            document.Components.Schemas[ValidationProblemSchema] = Problem(validation: true);
            return Task.CompletedTask;
        });

    private static void AddHeader(OpenApiOperation operation, string name, string description)
    {
        operation.Parameters ??= [];
        if (!operation.Parameters.Any(p => p.In == ParameterLocation.Header && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name, In = ParameterLocation.Header, Required = false, Description = description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
    }

    // RFC 9457 members, plus what the broker adds (requestId, and errors on validation problems).
    private static OpenApiSchema Problem(bool validation)
    {
        var properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String, Format = "uri-reference",
                Description = "The problem type: a base (default /docs/errors#) and a stable slug, a section of docs/errors.md.",
            },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What happened, in words; never a secret." },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
            ["requestId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Also the X-Request-Id response header; the broker's log lines carry it." },
        };
        if (validation)
        {
            properties["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object, Description = "Each field that is not valid, with what is wrong with it.",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            };
        }
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = validation ? "An RFC 9457 problem naming the fields that are not valid." : "An RFC 9457 problem (docs/errors.md lists every type).",
            Properties = properties,
            Required = new HashSet<string>(["type", "title", "status", "requestId"], StringComparer.Ordinal),
            Examples =
            [
                validation
                ? JsonNode.Parse("""{"type":"/docs/errors#validation","title":"The request is not valid.","status":400,"detail":"name is required.","requestId":"0199c0d27b3a7f1e8d5b0c7a2e4f6a81","errors":{"name":["name is required."]}}""")!
                : JsonNode.Parse("""{"type":"/docs/errors#not-found","title":"User was not found.","status":404,"requestId":"0199c0d27b3a7f1e8d5b0c7a2e4f6a81"}""")!,
            ],
        };
    }
}
