using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Xares.Broker.Storage;

namespace Xares.Broker.Api.Preconditions;

/// <summary>
/// Strong ETags made from a row's version, opaque (a hash of table, id and version, so clients
/// don't read meaning into them), and the If-Match / If-None-Match comparisons of RFC 9110.
/// </summary>
internal static class EntityTags
{
    public static string For(VersionedTable table, string id, long version)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{table.Name}\n{id}\n{version.ToString(CultureInfo.InvariantCulture)}"));
        return $"\"{Convert.ToBase64String(hash, 0, 15).Replace('+', '-').Replace('/', '_')}\"";
    }

    /// <summary>
    /// If-Match against the current tag (null: no such resource). Strong comparison: a weak tag
    /// never matches; <c>*</c> matches any existing resource; a malformed header matches nothing.
    /// </summary>
    public static bool IfMatch(StringValues header, string? current)
    {
        if (current is null || !EntityTagHeaderValue.TryParseStrictList(header, out var tags))
        {
            return false;
        }
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && string.Equals(t.Tag.Value, current, StringComparison.Ordinal)));
    }

    /// <summary>If-None-Match on a read: weak comparison, <c>*</c> matches; a malformed header matches nothing.</summary>
    public static bool IfNoneMatch(StringValues header, string current) =>
        EntityTagHeaderValue.TryParseStrictList(header, out var tags)
        && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || string.Equals(t.Tag.Value, current, StringComparison.Ordinal));
}
