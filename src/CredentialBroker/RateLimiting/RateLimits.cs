using System.Globalization;
using Xares.Broker.Api;
using Xares.Broker.Hosting;

namespace Xares.Broker.RateLimiting;

/// <summary>Registration and pipeline pieces of rate limiting: trusted proxies, the REST auth-failure gate, session buckets.</summary>
internal static class RateLimits
{
    public static IServiceCollection AddRateLimits(this IServiceCollection services, BrokerOptions options)
    {
        services.AddTrustedProxies(options.TrustedProxies);
        services.AddSingleton<AuthFailureThrottle>();
        services.AddSingleton<AuthFailureAudit>();
        services.AddHostedService(sp => sp.GetRequiredService<AuthFailureAudit>());
        services.AddSingleton<SessionCallLimiter>();
        services.AddSingleton<ConnectionAdmission>();
        return services;
    }

    /// <summary>First in the pipeline, so every later piece (logs, limits, audit) sees the real client.</summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app, BrokerOptions options) =>
        options.TrustedProxies.Count == 0 ? app : app.UseForwardedHeaders();

    /// <summary>Before authentication: a client past its failure budget gets 429 without its key being looked at.</summary>
    public static IApplicationBuilder UseAuthFailureThrottle(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            string? header = context.Request.Headers.Authorization;
            if (string.IsNullOrEmpty(header) || ApiKeyAuthenticationHandler.IsGrpc(context.Request))
            {
                await next(context);
                return;
            }
            var throttle = context.RequestServices.GetRequiredService<AuthFailureThrottle>();
            var client = ClientPartition.Of(context.Connection.RemoteIpAddress);
            if (throttle.Refusal(client, ApiKeyAuthenticationHandler.BearerToken(header)) is not { } retryAfter)
            {
                await next(context);
                return;
            }
            BrokerMetrics.RateLimited.WithLabels("rest").Inc();
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Type = ProblemMapping.TypeBase + "too-many-failures",
                    Title = "Too many failed authentications from this client; wait before trying again.",
                    Status = StatusCodes.Status429TooManyRequests,
                },
            });
        });
}
