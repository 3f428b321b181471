namespace Xares.GitHelper;

// Splits git's url= value the way git does (credential_from_url): scheme://[user[:password]@]host[:port][/path].
// The authority ends at the first '/', '?' or '#'; the path loses its leading and trailing slashes;
// every part is percent-decoded. Parts the URL lacks are empty.
internal static class CredentialUrlParser
{
    // Throws HelperException for a URL without scheme, with more than one '@' before the host,
    // or with a part that decodes to CR, LF or NUL.
    public static CredentialRequest Parse(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            throw new HelperException("url= has no scheme (expected scheme://host/...)");
        }

        var rest = url[(schemeEnd + 3)..];
        var authorityEnd = rest.AsSpan().IndexOfAny('/', '?', '#');
        if (authorityEnd < 0)
        {
            authorityEnd = rest.Length;
        }

        var authority = rest[..authorityEnd];
        var at = authority.IndexOf('@');
        if (at != authority.LastIndexOf('@'))
        {
            // git and browsers split "a@b@host" differently; refuse rather than guess.
            throw new HelperException("url= has more than one '@' before its host");
        }

        var username = "";
        var password = "";
        if (at >= 0)
        {
            var userInfo = authority[..at];
            var colon = userInfo.IndexOf(':');
            username = colon < 0 ? userInfo : userInfo[..colon];
            password = colon < 0 ? "" : userInfo[(colon + 1)..];
        }

        return new CredentialRequest(
            url[..schemeEnd],
            Decode(authority[(at + 1)..]),
            Decode(rest[authorityEnd..].TrimStart('/').TrimEnd('/')),
            Decode(username),
            Decode(password));
    }

    private static string Decode(string part)
    {
        var decoded = Uri.UnescapeDataString(part);
        return CredentialValue.IsSafe(decoded)
            ? decoded
            : throw new HelperException("url= decodes to a CR, LF or NUL character");
    }
}
