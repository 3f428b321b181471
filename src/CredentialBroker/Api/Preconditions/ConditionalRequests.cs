using Xares.Broker.Storage;

namespace Xares.Broker.Api.Preconditions;

/// <summary>
/// ETag and If-Match for the single-resource routes (README, REST conventions): a GET answers with
/// the resource's ETag (and 304 to a matching If-None-Match); a PATCH or DELETE with If-Match
/// changes the resource only if the tag is still current, else answers 412 and changes nothing.
/// Put on a route with <c>.WithEntityTag(table)</c>; the route's {id} names the row.
/// </summary>
internal static class ConditionalRequests
{
    public static TBuilder WithEntityTag<TBuilder>(this TBuilder builder, VersionedTable table) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            var inner = endpoint.RequestDelegate ?? throw new InvalidOperationException("WithEntityTag needs a route handler.");
            endpoint.RequestDelegate = context => HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)
                ? ReadAsync(context, inner, table)
                : WriteAsync(context, inner, table);
        });
        return builder;
    }

    private static async Task ReadAsync(HttpContext context, RequestDelegate next, VersionedTable table)
    {
        var id = RouteId(context);
        // Read before the resource: should it change in between, the tag is older than the body and
        // a later If-Match fails safe (412), never the other way round.
        var version = await context.RequestServices.GetRequiredService<Database>().ReadAsync(c => RowVersions.Find(c, null, table, id));
        var body = await BufferedResponse.RunAsync(context, next);
        var response = context.Response;
        if (response.StatusCode == StatusCodes.Status200OK && version is { } v)
        {
            var tag = EntityTags.For(table, id, v);
            response.Headers.ETag = tag;
            if (context.Request.Headers.IfNoneMatch.Count > 0 && EntityTags.IfNoneMatch(context.Request.Headers.IfNoneMatch, tag))
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                response.ContentType = null;
                return;
            }
        }
        await BufferedResponse.SendAsync(context, body);
    }

    private static async Task WriteAsync(HttpContext context, RequestDelegate next, VersionedTable table)
    {
        var id = RouteId(context);
        var ifMatch = context.Request.Headers.IfMatch;
        var precondition = new WritePrecondition(table, id, version =>
        {
            if (ifMatch.Count > 0 && !EntityTags.IfMatch(ifMatch, version is { } v ? EntityTags.For(table, id, v) : null))
            {
                throw new PreconditionFailedException();
            }
        });
        byte[] body;
        WritePrecondition.Set(precondition);
        try
        {
            body = await BufferedResponse.RunAsync(context, next);
        }
        finally
        {
            WritePrecondition.Set(null);
        }
        var response = context.Response;
        if (BufferedResponse.IsSuccess(response.StatusCode))
        {
            if (!precondition.Applied && ifMatch.Count > 0)
            {
                // Nothing was written (e.g. revoking what is already revoked): the condition still decides the answer.
                var current = await context.RequestServices.GetRequiredService<Database>().ReadAsync(c => RowVersions.Find(c, null, table, id));
                if (!EntityTags.IfMatch(ifMatch, current is { } v ? EntityTags.For(table, id, v) : null))
                {
                    throw new PreconditionFailedException();
                }
            }
            if (response.StatusCode == StatusCodes.Status200OK && precondition.VersionAfter is { } after)
            {
                response.Headers.ETag = EntityTags.For(table, id, after);
            }
        }
        await BufferedResponse.SendAsync(context, body);
    }

    private static string RouteId(HttpContext context) =>
        context.Request.RouteValues["id"] as string ?? throw new InvalidOperationException("A route with an ETag needs an {id}.");
}
