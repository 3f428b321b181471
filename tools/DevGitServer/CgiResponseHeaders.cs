using System.Text;

namespace Xares.DevGitServer;

/// <summary>Reads the header block a CGI program writes before its body (RFC 3875 §6).</summary>
internal static class CgiResponseHeaders
{
    private const int MaxHeaderBytes = 64 * 1024;

    /// <summary>
    /// Reads up to and including the blank line; returns the status, the headers and whatever
    /// body bytes were read past them, or null when the program ended before finishing its headers.
    /// </summary>
    public static async Task<(int Status, List<KeyValuePair<string, string>> Headers, ReadOnlyMemory<byte> BodyStart)?> ReadAsync(
        Stream output, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        var filled = 0;
        while (true)
        {
            var end = FindHeaderEnd(buffer.AsSpan(0, filled), out var separatorLength);
            if (end >= 0)
            {
                var (status, headers) = Parse(Encoding.Latin1.GetString(buffer, 0, end));
                var bodyStart = end + separatorLength;
                return (status, headers, buffer.AsMemory(bodyStart, filled - bodyStart));
            }

            if (filled == buffer.Length)
            {
                if (buffer.Length >= MaxHeaderBytes)
                {
                    throw new InvalidOperationException("CGI headers exceed 64 KiB.");
                }

                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var read = await output.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                return null;
            }

            filled += read;
        }
    }

    private static int FindHeaderEnd(ReadOnlySpan<byte> data, out int separatorLength)
    {
        var crlf = data.IndexOf("\r\n\r\n"u8);
        var lf = data.IndexOf("\n\n"u8);
        if (crlf >= 0 && (lf < 0 || crlf < lf))
        {
            separatorLength = 4;
            return crlf;
        }

        separatorLength = 2;
        return lf;
    }

    private static (int Status, List<KeyValuePair<string, string>> Headers) Parse(string block)
    {
        var status = StatusCodes.Status200OK;
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in block.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                // "Status: 404 Not Found": the code is the first token.
                var code = value.Split(' ', 2)[0];
                status = int.TryParse(code, out var parsed) ? parsed : StatusCodes.Status502BadGateway;
            }
            else
            {
                headers.Add(new(name, value));
            }
        }

        return (status, headers);
    }
}
