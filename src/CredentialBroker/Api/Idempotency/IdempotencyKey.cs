using System.Text;
using Microsoft.Extensions.Primitives;

namespace Xares.Broker.Api.Idempotency;

/// <summary>
/// Reads the Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header): a
/// structured-field string (<c>"…"</c>) or, as most clients send it, the bare value; 1 to 255
/// printable ASCII characters, sent once.
/// </summary>
internal static class IdempotencyKey
{
    public const string Header = "Idempotency-Key";
    public const int MaxLength = 255;

    /// <returns>The key, or null when the request has none.</returns>
    /// <exception cref="InvalidIdempotencyKeyException">The header is repeated, empty, too long or not printable ASCII.</exception>
    public static string? Read(StringValues values)
    {
        if (values.Count == 0)
        {
            return null;
        }
        if (values.Count > 1)
        {
            throw new InvalidIdempotencyKeyException("Send one Idempotency-Key header.");
        }
        var raw = values[0]!.Trim(' ', '\t');
        var quoted = raw.StartsWith('"');
        var key = quoted ? Unquote(raw) : raw;
        if (key.Length is 0 or > MaxLength)
        {
            throw new InvalidIdempotencyKeyException($"Idempotency-Key must be 1 to {MaxLength} characters.");
        }
        // A bare value cannot hold what would make it a list or a quoted string.
        if (key.Any(c => c is < ' ' or > '~') || (!quoted && key.Any(c => c is ' ' or '"' or '\\' or ',')))
        {
            throw new InvalidIdempotencyKeyException("Idempotency-Key must be printable ASCII (a UUID is a good choice).");
        }
        return key;
    }

    // RFC 8941 sf-string: DQUOTE *( unescaped / "\" ( DQUOTE / "\" ) ) DQUOTE.
    private static string Unquote(string raw)
    {
        if (raw.Length < 2 || raw[^1] != '"')
        {
            throw new InvalidIdempotencyKeyException("Idempotency-Key starts a quoted string that does not end.");
        }
        var key = new StringBuilder(raw.Length);
        for (var i = 1; i < raw.Length - 1; i++)
        {
            var c = raw[i];
            if (c == '\\')
            {
                if (++i >= raw.Length - 1 || raw[i] is not ('"' or '\\'))
                {
                    throw new InvalidIdempotencyKeyException("Idempotency-Key has an invalid escape; only \\\" and \\\\ are allowed.");
                }
                c = raw[i];
            }
            else if (c == '"')
            {
                throw new InvalidIdempotencyKeyException("Idempotency-Key has an unescaped quote.");
            }
            key.Append(c);
        }
        return key.ToString();
    }
}
