namespace Xares.GitTargets;

/// <summary>
/// Git's credential protocol is line-based: a CR, LF or NUL inside a value would let it smuggle
/// extra keys (the CVE-2020-5260 class of bug), so such values are refused wherever they enter.
/// </summary>
public static class ProtocolText
{
    public static bool IsSafe(string? value) =>
        value is not null && value.AsSpan().IndexOfAny('\r', '\n', '\0') < 0;
}
