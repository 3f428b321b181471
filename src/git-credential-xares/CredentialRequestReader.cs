using System.Text;

namespace Xares.GitHelper;

// Reads git's credential protocol input: key=value lines up to a blank line or EOF.
// Keys are case-sensitive; unknown keys and multi-valued key[] lines are ignored.
// url= is split into its parts; a key given as well must agree with the part the URL carries,
// so the result never depends on line order (git itself lets the later line win).
internal static class CredentialRequestReader
{
    // git writes a few hundred bytes; anything near this is not git talking.
    public const int MaxInputChars = 64 * 1024;

    private const string ProtocolKey = "protocol";
    private const string HostKey = "host";
    private const string PathKey = "path";
    private const string UsernameKey = "username";
    private const string PasswordKey = "password";
    private const string UrlKey = "url";

    // Malformed input throws HelperException: too long, not UTF-8, a line without '=',
    // a CR or NUL inside a line, or an unparseable url=.
    public static CredentialInput Read(TextReader input)
    {
        var text = ReadAll(input);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string? repeatedKey = null;

        foreach (var line in RequestLines(text))
        {
            // LF already ends the line, so CR and NUL are what could still smuggle content.
            if (!CredentialValue.IsSafe(line))
            {
                throw new HelperException("input line contains a CR or NUL character");
            }

            var separator = line.IndexOf('=');
            if (separator < 0)
            {
                throw new HelperException("malformed input line (no '='); expected key=value");
            }

            var key = line[..separator];
            if (key.EndsWith("[]", StringComparison.Ordinal) || !IsUnderstood(key))
            {
                continue;
            }

            if (!values.TryAdd(key, line[(separator + 1)..]))
            {
                repeatedKey ??= key;
            }
        }

        return repeatedKey is null
            ? Assemble(values)
            : new CredentialInput(null, $"request repeats '{repeatedKey}='");
    }

    private static CredentialInput Assemble(Dictionary<string, string> values)
    {
        var fromUrl = values.TryGetValue(UrlKey, out var url) ? CredentialUrlParser.Parse(url) : CredentialRequest.Empty;

        string? conflictingKey = null;
        string Pick(string key, string urlPart)
        {
            if (!values.TryGetValue(key, out var given))
            {
                return urlPart;
            }

            if (urlPart.Length > 0 && given != urlPart)
            {
                conflictingKey ??= key;
            }

            return given;
        }

        var request = new CredentialRequest(
            Pick(ProtocolKey, fromUrl.Protocol),
            Pick(HostKey, fromUrl.Host),
            Pick(PathKey, fromUrl.Path),
            Pick(UsernameKey, fromUrl.Username),
            Pick(PasswordKey, fromUrl.Password));

        if (conflictingKey is not null)
        {
            return new CredentialInput(null, $"'{conflictingKey}=' disagrees with 'url='");
        }

        return request.Protocol.Length == 0 || request.Host.Length == 0
            ? new CredentialInput(null, null)
            : new CredentialInput(request, null);
    }

    private static bool IsUnderstood(string key) =>
        key is ProtocolKey or HostKey or PathKey or UsernameKey or PasswordKey or UrlKey;

    // Lines up to the first blank line or EOF; a final line needs no LF.
    private static IEnumerable<string> RequestLines(string text)
    {
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0)
            {
                end = text.Length;
            }

            if (end == start)
            {
                yield break;
            }

            yield return text[start..end];
            start = end + 1;
        }
    }

    // git writes its whole request and then closes the pipe; consuming everything keeps it from
    // meeting a closed pipe, while the cap keeps a runaway writer from holding memory.
    private static string ReadAll(TextReader input)
    {
        var text = new StringBuilder();
        var chunk = new char[4096];
        try
        {
            int read;
            while ((read = input.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (text.Length + read > MaxInputChars)
                {
                    throw new HelperException($"input exceeds {MaxInputChars} characters");
                }

                text.Append(chunk, 0, read);
            }
        }
        catch (DecoderFallbackException)
        {
            throw new HelperException("input is not valid UTF-8");
        }

        return text.ToString();
    }
}
