namespace Xares.Broker.Api.Idempotency;

internal static class IdempotencyRoutes
{
    /// <summary>Honours Idempotency-Key on this route; <paramref name="answerCarriesSecret"/> limits replays to a few minutes.</summary>
    public static TBuilder WithIdempotencyKey<TBuilder>(this TBuilder builder, bool answerCarriesSecret = false) where TBuilder : IEndpointConventionBuilder
    {
        // Wraps the whole endpoint (before its body is bound), so the raw body can be hashed and the whole answer stored.
        builder.Add(endpoint =>
        {
            var inner = endpoint.RequestDelegate ?? throw new InvalidOperationException("WithIdempotencyKey needs a route handler.");
            endpoint.RequestDelegate = context =>
                context.RequestServices.GetRequiredService<IdempotentRequests>().InvokeAsync(context, inner, answerCarriesSecret);
        });
        return builder;
    }
}
