using System.Globalization;
using System.Text;

namespace Xares.Broker.Audit.Devices;

/// <summary>
/// RFC 5424 syslog messages carrying one audit record's JSON line as MSG, and the octet-counting
/// framing of RFC 6587 for stream transports (TCP, stream Unix sockets): `LEN SP MESSAGE`, so a
/// receiver never has to guess where a message ends.
/// </summary>
internal static class SyslogMessage
{
    /// <summary>RFC 5424 facility 13, "log audit".</summary>
    public const int Facility = 13;

    private const int Informational = 6;
    private const int Notice = 5;
    private const string AppName = "xares-broker";

    private static readonly string Host = Printable(Environment.MachineName, 255);
    private static readonly string ProcessId = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    /// <summary>`&lt;PRI&gt;1 TIMESTAMP HOST xares-broker PID audit - JSON`: successes informational, denials and failures notice.</summary>
    public static byte[] Format(DateTimeOffset at, string outcome, string json)
    {
        var severity = outcome == AuditOutcomes.Success ? Informational : Notice;
        var timestamp = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        return Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"<{Facility * 8 + severity}>1 {timestamp} {Host} {AppName} {ProcessId} audit - {json}"));
    }

    /// <summary>Octet-counting frame (RFC 6587 3.4.1): the message's length in bytes, a space, the message.</summary>
    public static byte[] Frame(byte[] message)
    {
        var prefix = Encoding.ASCII.GetBytes(message.Length.ToString(CultureInfo.InvariantCulture) + " ");
        return [.. prefix, .. message];
    }

    // HOSTNAME is PRINTUSASCII without spaces, or "-" (nil) when the machine name has none of them.
    private static string Printable(string name, int max)
    {
        var kept = new string(name.Where(c => c is > ' ' and < (char)127).Take(max).ToArray());
        return kept.Length == 0 ? "-" : kept;
    }
}
