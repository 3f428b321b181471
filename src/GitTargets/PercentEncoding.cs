using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Xares.GitTargets;

/// <summary>
/// Path-segment percent-encoding. Git decodes the path before it asks for a credential, so a
/// stored URL is decoded once to compare like with like, and re-encoded for its canonical form.
/// </summary>
public static class PercentEncoding
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // RFC 3986 pchar minus pct-encoded: unreserved, sub-delims, ':' and '@'.
    private static readonly SearchValues<char> PathChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@");

    /// <summary>Decodes strictly: every '%' starts two hex digits and the bytes are valid UTF-8.</summary>
    public static bool TryDecode(string value, [NotNullWhen(true)] out string? decoded)
    {
        decoded = null;
        if (!value.Contains('%'))
        {
            decoded = value;
            return true;
        }

        var bytes = new List<byte>(value.Length);
        Span<byte> buffer = stackalloc byte[4];
        for (var i = 0; i < value.Length;)
        {
            if (value[i] == '%')
            {
                if (i + 2 >= value.Length
                    || !byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                {
                    return false;
                }

                bytes.Add(b);
                i += 3;
                continue;
            }

            if (Rune.DecodeFromUtf16(value.AsSpan(i), out var rune, out var consumed) != OperationStatus.Done)
            {
                return false;
            }

            var written = rune.EncodeToUtf8(buffer);
            bytes.AddRange(buffer[..written]);
            i += consumed;
        }

        try
        {
            decoded = StrictUtf8.GetString(bytes.ToArray());
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    public static string EncodeSegment(string segment)
    {
        if (!segment.AsSpan().ContainsAnyExcept(PathChars))
        {
            return segment;
        }

        var builder = new StringBuilder(segment.Length * 3);
        Span<byte> buffer = stackalloc byte[4];
        foreach (var rune in segment.EnumerateRunes())
        {
            if (rune.IsAscii && PathChars.Contains((char)rune.Value))
            {
                builder.Append((char)rune.Value);
                continue;
            }

            var written = rune.EncodeToUtf8(buffer);
            foreach (var b in buffer[..written])
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
