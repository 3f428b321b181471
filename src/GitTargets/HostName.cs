using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Xares.GitTargets;

/// <summary>
/// Canonical host names: ASCII lowercase, one trailing dot removed, IDN labels in punycode,
/// IPv6 literals compressed inside their brackets. Matching compares these strings ordinally,
/// so every path into the matcher goes through here.
/// </summary>
public static class HostName
{
    private const int MaxInputLength = 1024;
    private const int MaxLength = 253;
    private const int MaxLabelLength = 63;

    private static readonly SearchValues<char> AsciiLabelChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");

    private static readonly SearchValues<char> IPv6Chars = SearchValues.Create("0123456789abcdefABCDEF:.");

    public static bool TryCanonicalize(string host, [NotNullWhen(true)] out string? canonical, [NotNullWhen(false)] out string? error)
    {
        canonical = null;
        if (host.Length > MaxInputLength)
        {
            error = "The host name is too long.";
            return false;
        }

        if (host.StartsWith('['))
        {
            return TryCanonicalizeIPv6(host, out canonical, out error);
        }

        // "example.com." is the same DNS name as "example.com"; only one dot, "a.." stays invalid.
        var name = host.EndsWith('.') ? host[..^1] : host;
        if (name.Length == 0)
        {
            error = "The host is empty.";
            return false;
        }

        var labels = name.Split('.');
        for (var i = 0; i < labels.Length; i++)
        {
            if (!TryCanonicalizeLabel(labels[i], out var label, out error))
            {
                return false;
            }

            labels[i] = label;
        }

        canonical = string.Join('.', labels);
        if (canonical.Length > MaxLength)
        {
            error = "The host name is longer than 253 characters.";
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryCanonicalizeLabel(string label, [NotNullWhen(true)] out string? canonical, [NotNullWhen(false)] out string? error)
    {
        canonical = null;
        if (label.Length == 0)
        {
            error = "The host has an empty label (a leading dot or two dots in a row).";
            return false;
        }

        var isAscii = true;
        var codePoints = 0;
        foreach (var rune in label.EnumerateRunes())
        {
            codePoints++;
            if (rune.IsAscii)
            {
                if (!AsciiLabelChars.Contains((char)rune.Value))
                {
                    error = "The host may contain only letters, digits, '-', '_' and '.'.";
                    return false;
                }
            }
            else if (!IsAllowedNonAscii(rune, out error))
            {
                return false;
            }
            else
            {
                isAscii = false;
            }
        }

        if (codePoints > MaxLabelLength)
        {
            error = "A host label is longer than 63 characters.";
            return false;
        }

        var lower = ToLowerAscii(label);
        canonical = isAscii ? lower : "xn--" + Punycode.Encode(lower);
        if (canonical.Length > MaxLabelLength)
        {
            error = "A host label is longer than 63 characters once encoded as punycode.";
            return false;
        }

        error = null;
        return true;
    }

    // Only ASCII is case-folded. Folding other letters ourselves can disagree with the UTS #46
    // mapping curl applies (U+0130 'İ', U+1E9E 'ẞ', the Kelvin sign), which would let one host
    // match a credential stored for another; refusing them fails closed instead.
    private static bool IsAllowedNonAscii(Rune rune, [NotNullWhen(false)] out string? error)
    {
        switch (Rune.GetUnicodeCategory(rune))
        {
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.OtherLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.NonSpacingMark:
            case UnicodeCategory.SpacingCombiningMark:
            case UnicodeCategory.EnclosingMark:
            case UnicodeCategory.DecimalDigitNumber:
                error = null;
                return true;
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
                error = "Non-ASCII letters in a host must be lowercase (or give the host in punycode, xn--…).";
                return false;
            default:
                error = "The host contains a character that is not allowed in a host name.";
                return false;
        }
    }

    private static string ToLowerAscii(string value) =>
        string.Create(value.Length, value, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
            }
        });

    private static bool TryCanonicalizeIPv6(string host, [NotNullWhen(true)] out string? canonical, [NotNullWhen(false)] out string? error)
    {
        canonical = null;
        var inner = host.EndsWith(']') ? host[1..^1] : "";
        // The character check keeps out zone ids ("%eth0") and anything IPAddress would tolerate.
        if (inner.Length == 0
            || inner.AsSpan().ContainsAnyExcept(IPv6Chars)
            || !IPAddress.TryParse(inner, out var address)
            || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            error = "The host is not a valid IPv6 address in brackets, like [2001:db8::1].";
            return false;
        }

        canonical = "[" + address + "]";
        error = null;
        return true;
    }
}
