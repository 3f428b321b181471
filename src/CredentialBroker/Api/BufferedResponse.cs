namespace Xares.Broker.Api;

/// <summary>
/// Runs an endpoint with its response body held in memory, so a wrapper sees the status and
/// headers (and may store or replace the answer) before anything reaches the client. For the
/// small JSON answers of single resources only.
/// </summary>
internal static class BufferedResponse
{
    public static async Task<byte[]> RunAsync(HttpContext context, RequestDelegate next)
    {
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }
        return buffer.ToArray();
    }

    public static async Task SendAsync(HttpContext context, byte[] body)
    {
        // Nothing to send (a 204): no write at all. Kestrel refuses any write, even of zero bytes,
        // to a 204 in some paths (seen as a 500 after a DELETE had been done, under load).
        if (body.Length == 0)
        {
            return;
        }
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }

    public static bool IsSuccess(int status) => status is >= 200 and < 300;
}
