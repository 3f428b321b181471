using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Extensions.Options;

namespace Xares.Broker.Credentials;

/// <summary>
/// Reads a JSON request body with the broker's size cap. Kestrel enforces the cap on the wire
/// too; reading it here keeps the answer the same on every server (the in-memory test server
/// has no body limit) and maps every failure to a problem: 413 too large, 415 not JSON,
/// 400 malformed.
/// </summary>
internal static class JsonRequestBody
{
    public static async Task<T> ReadAsync<T>(HttpRequest request, int maxBytes)
        where T : class
    {
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge();
        }
        if (!request.HasJsonContentType())
        {
            throw new BadHttpRequestException("The request body must be JSON (Content-Type: application/json).", StatusCodes.Status415UnsupportedMediaType);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw TooLarge();
            }
            buffer.Write(chunk, 0, read);
        }

        var body = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        // Checked once for the whole body: members read as JsonElement decode their strings later.
        if (!Utf8.IsValid(body))
        {
            throw new BadHttpRequestException("The request body is not valid UTF-8.", StatusCodes.Status400BadRequest);
        }
        var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        try
        {
            return JsonSerializer.Deserialize<T>(body, options)
                ?? throw new BadHttpRequestException("The request body must be a JSON object.", StatusCodes.Status400BadRequest);
        }
        catch (JsonException ex)
        {
            throw new BadHttpRequestException("The request body is not valid JSON for this request.", StatusCodes.Status400BadRequest, ex);
        }
    }

    private static BadHttpRequestException TooLarge() =>
        new("The request body is too large.", StatusCodes.Status413PayloadTooLarge);
}
