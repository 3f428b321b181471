using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Xares.GitTargets;

/// <summary>Splits <c>host</c>, <c>host:port</c> or <c>[v6]:port</c> and canonicalizes the host.</summary>
public static class HostPort
{
    public static bool TryParse(string authority, [NotNullWhen(true)] out string? host, out int? port, [NotNullWhen(false)] out string? error)
    {
        host = null;
        port = null;
        string hostPart;
        string? portPart = null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            var rest = close < 0 ? "" : authority[(close + 1)..];
            if (close < 0 || (rest.Length > 0 && rest[0] != ':'))
            {
                error = "The host is not a valid IPv6 address in brackets, like [2001:db8::1].";
                return false;
            }

            hostPart = authority[..(close + 1)];
            portPart = rest.Length > 0 ? rest[1..] : null;
        }
        else
        {
            var colon = authority.IndexOf(':');
            if (colon >= 0 && authority.IndexOf(':', colon + 1) >= 0)
            {
                error = "An IPv6 address must be written in brackets, like [2001:db8::1].";
                return false;
            }

            hostPart = colon < 0 ? authority : authority[..colon];
            portPart = colon < 0 ? null : authority[(colon + 1)..];
        }

        if (!HostName.TryCanonicalize(hostPart, out host, out error))
        {
            return false;
        }

        if (portPart is not null)
        {
            if (!TryParsePort(portPart, out var value))
            {
                host = null;
                error = "The port must be a number from 1 to 65535 without leading zeros.";
                return false;
            }

            port = value;
        }

        return true;
    }

    private static bool TryParsePort(string text, out int port)
    {
        port = 0;
        if (text.Length is 0 or > 5 || text[0] == '0' || !text.All(char.IsAsciiDigit))
        {
            return false;
        }

        port = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return port <= 65535;
    }
}
