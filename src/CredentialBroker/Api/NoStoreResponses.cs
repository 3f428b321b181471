namespace Xares.Broker.Api;

/// <summary>
/// Every /api/v1 response says `Cache-Control: no-store`. Some carry a secret exactly once (a new or
/// rotated API key, a workspace's bootstrap token); one rule for the whole API means a new route
/// that returns a secret cannot forget it, and no shared or browser cache keeps any answer.
/// </summary>
internal static class NoStoreResponses
{
    public static IApplicationBuilder UseNoStoreForApi(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/api/v1", StringComparison.OrdinalIgnoreCase))
            {
                // At the last moment: the exception handler clears headers set earlier.
                context.Response.OnStarting(() =>
                {
                    context.Response.Headers.CacheControl = "no-store";
                    return Task.CompletedTask;
                });
            }
            await next(context);
        });
}
