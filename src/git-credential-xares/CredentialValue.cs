namespace Xares.GitHelper;

// Rule c: CR, LF and NUL would let a value forge protocol lines, so they never cross.
internal static class CredentialValue
{
    public static bool IsSafe(string value) => value.AsSpan().IndexOfAny('\r', '\n', '\0') < 0;
}
