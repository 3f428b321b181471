using System.Diagnostics.CodeAnalysis;
using Xares.GitTargets;

namespace Xares.Broker.Credentials.Matching;

/// <summary>
/// A workspace's <c>allowedHosts</c>: <c>host[:port]</c> or <c>*.domain[:port]</c> patterns.
/// Absent (null) allows every host; an empty list allows none. A pattern without a port allows
/// every port; <c>*.example.com</c> covers subdomains at any depth but not example.com itself.
/// </summary>
internal sealed class HostAllowList
{
    private const int MaxPatterns = 256;
    private const string WildcardPrefix = "*.";

    private readonly Entry[] _entries;

    private HostAllowList(bool isUnrestricted, Entry[] entries)
    {
        IsUnrestricted = isUnrestricted;
        _entries = entries;
        Patterns = [.. entries.Select(e => e.Pattern)];
    }

    public static HostAllowList AllowAll { get; } = new(isUnrestricted: true, []);

    /// <summary>True when no allowedHosts were given, so every host is allowed.</summary>
    public bool IsUnrestricted { get; }

    /// <summary>Canonical patterns (lowercase, punycode, duplicates removed) for display.</summary>
    public IReadOnlyList<string> Patterns { get; }

    public static bool TryParse(IReadOnlyList<string>? patterns, [NotNullWhen(true)] out HostAllowList? list, [NotNullWhen(false)] out string? error)
    {
        list = null;
        if (patterns is null)
        {
            list = AllowAll;
            error = null;
            return true;
        }

        if (patterns.Count > MaxPatterns)
        {
            error = $"allowedHosts may hold at most {MaxPatterns} patterns.";
            return false;
        }

        var entries = new List<Entry>(patterns.Count);
        for (var i = 0; i < patterns.Count; i++)
        {
            // Positions, not values, in errors: a mistaken paste may hold a URL with a token.
            if (!TryParsePattern(patterns[i], out var entry, out var reason))
            {
                error = $"allowedHosts[{i}] is invalid: {reason}";
                return false;
            }

            if (!entries.Exists(e => e.Pattern == entry.Pattern))
            {
                entries.Add(entry);
            }
        }

        list = new HostAllowList(isUnrestricted: false, [.. entries]);
        error = null;
        return true;
    }

    /// <summary>Whether a host (canonicalized here like a stored URL's) on a port is allowed.</summary>
    public bool Allows(string host, int port)
    {
        if (IsUnrestricted)
        {
            return true;
        }

        return HostName.TryCanonicalize(host, out var canonical, out _)
            && _entries.Any(e => e.Allows(canonical, port));
    }

    private static bool TryParsePattern(string? pattern, out Entry entry, [NotNullWhen(false)] out string? error)
    {
        entry = default;
        var isWildcard = pattern?.StartsWith(WildcardPrefix, StringComparison.Ordinal) == true;
        var hostPart = isWildcard ? pattern![WildcardPrefix.Length..] : pattern;
        error = hostPart switch
        {
            _ when string.IsNullOrWhiteSpace(pattern) => "a pattern must not be empty.",
            _ when pattern.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) => "a pattern must not contain spaces or control characters.",
            _ when pattern.Contains("://", StringComparison.Ordinal) => "a pattern is a host, not a URL; leave out the scheme.",
            _ when pattern.IndexOfAny(['/', '\\', '?', '#']) >= 0 => "a pattern is a host, not a URL; leave out any path.",
            _ when pattern.Contains('@') => "a pattern must not contain a username.",
            null or "" => "a wildcard needs a domain after '*.', like *.example.com.",
            _ when hostPart.Contains('*') || (!isWildcard && pattern.Contains('*')) =>
                "a wildcard is allowed only as a leading '*.', like *.example.com.",
            _ when isWildcard && hostPart.StartsWith('[') => "a wildcard cannot apply to an IP address.",
            _ => null,
        };
        if (error is not null || !HostPort.TryParse(hostPart!, out var host, out var port, out error))
        {
            return false;
        }

        entry = new Entry(host, isWildcard, port);
        return true;
    }

    private readonly record struct Entry(string Host, bool IsWildcard, int? Port)
    {
        public string Pattern => (IsWildcard ? WildcardPrefix : "") + Host + (Port is { } p ? $":{p}" : "");

        public bool Allows(string host, int port) =>
            (Port is null || Port == port)
            && (IsWildcard
                ? host.Length > Host.Length + 1 && host[^(Host.Length + 1)] == '.' && host.EndsWith(Host, StringComparison.Ordinal)
                : host == Host);
    }
}
