using System.Diagnostics.CodeAnalysis;

namespace Xares.GitTargets;

/// <summary>
/// Path segments on both sides of a match. A stored URL path is percent-decoded once (git has
/// already decoded the path it sends); segments that could climb out of their prefix on the
/// server ('.', '..', empty, backslashes, '/' or '\' hidden behind percent-encoding) are refused.
/// </summary>
public static class GitPath
{
    public static bool TryParseUrlPath(string rawPath, [NotNullWhen(true)] out string[]? segments, [NotNullWhen(false)] out string? error)
    {
        segments = null;
        if (rawPath is "" or "/")
        {
            segments = [];
            error = null;
            return true;
        }

        // One trailing slash is how people write a prefix ("https://host/org/"); it adds nothing.
        var trimmed = rawPath.EndsWith('/') ? rawPath[1..^1] : rawPath[1..];
        var parts = trimmed.Split('/');
        for (var i = 0; i < parts.Length; i++)
        {
            var raw = parts[i];
            error = raw switch
            {
                "" => "The URL path must not contain empty segments ('//').",
                "." or ".." => "The URL path must not contain '.' or '..' segments.",
                _ when ContainsEncodedSeparator(raw) => "The URL path must not percent-encode '.', '/' or '\\'.",
                _ => null,
            };
            if (error is not null)
            {
                return false;
            }

            if (!PercentEncoding.TryDecode(raw, out var decoded))
            {
                error = "The URL path has malformed percent-encoding (each '%' must start two hex digits of UTF-8).";
                return false;
            }

            if (!IsSafeSegment(decoded))
            {
                error = "The URL path contains a segment that is not allowed once decoded.";
                return false;
            }

            parts[i] = decoded;
        }

        segments = parts;
        error = null;
        return true;
    }

    /// <summary>Git's path field: no leading slash, already decoded; null or empty means none.</summary>
    public static bool TryParseRequestPath(string? path, [NotNullWhen(true)] out string[]? segments)
    {
        segments = string.IsNullOrEmpty(path) ? [] : path.Split('/');
        if (segments.All(IsSafeSegment))
        {
            return true;
        }

        segments = null;
        return false;
    }

    // Applied to decoded segments. A '%' left in one may be decoded again by a server, so that
    // second reading must be harmless too.
    private static bool IsSafeSegment(string segment) =>
        segment.Length > 0
        && segment is not ("." or "..")
        && !segment.Any(c => c is '/' or '\\' || char.IsControl(c))
        && (!segment.Contains('%') || IsHarmlessWhenDecoded(Uri.UnescapeDataString(segment)));

    private static bool IsHarmlessWhenDecoded(string decoded) =>
        decoded is not ("." or "..") && !decoded.Any(c => c is '/' or '\\' || char.IsControl(c));

    private static bool ContainsEncodedSeparator(string raw) =>
        raw.Contains("%2e", StringComparison.OrdinalIgnoreCase)
        || raw.Contains("%2f", StringComparison.OrdinalIgnoreCase)
        || raw.Contains("%5c", StringComparison.OrdinalIgnoreCase);
}
