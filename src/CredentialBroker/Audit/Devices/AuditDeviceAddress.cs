namespace Xares.Broker.Audit.Devices;

internal enum AuditDeviceKind
{
    File,
    SyslogUnix,
    SyslogTcp,
}

/// <summary>
/// Where an audit device writes, from `--audit-device`: `file:/path`, `syslog+unix:///dev/log`
/// or `syslog+tcp://host:port`. <see cref="Name"/> is the address as given: it labels the device's
/// metrics and log lines (an address names no secret).
/// </summary>
internal sealed record AuditDeviceAddress(AuditDeviceKind Kind, string Name, string Path, string Host = "", int Port = 0)
{
    /// <summary>Parses one address; an unusable one throws <see cref="InvalidOperationException"/> naming the forms accepted.</summary>
    public static AuditDeviceAddress Parse(string text)
    {
        if (text.StartsWith("file:", StringComparison.Ordinal))
        {
            // file:/abs/path or file:///abs/path; a relative path would follow the working directory, so it is refused.
            var path = text["file:".Length..];
            path = path.StartsWith("//", StringComparison.Ordinal) ? path[2..] : path;
            if (!System.IO.Path.IsPathFullyQualified(path) || path.EndsWith('/'))
            {
                throw Refused(text, "a file device needs an absolute file path, e.g. file:/var/log/xares/audit.jsonl");
            }
            return new AuditDeviceAddress(AuditDeviceKind.File, text, path);
        }
        if (text.StartsWith("syslog+unix://", StringComparison.Ordinal))
        {
            var path = text["syslog+unix://".Length..];
            if (!System.IO.Path.IsPathFullyQualified(path))
            {
                throw Refused(text, "a Unix syslog device needs an absolute socket path, e.g. syslog+unix:///dev/log");
            }
            return new AuditDeviceAddress(AuditDeviceKind.SyslogUnix, text, path);
        }
        if (text.StartsWith("syslog+tcp://", StringComparison.Ordinal))
        {
            if (text.Contains('@', StringComparison.Ordinal))
            {
                // Not echoed: whatever precedes the @ could be a password.
                throw new InvalidOperationException("--audit-device: a TCP syslog address takes no user or password (syslog+tcp://host:port).");
            }
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Port <= 0 || uri.Host.Length == 0
                || uri.AbsolutePath != "/" || uri.Query.Length > 0)
            {
                throw Refused(text, "a TCP syslog device needs a host and a port, e.g. syslog+tcp://siem.internal:601");
            }
            return new AuditDeviceAddress(AuditDeviceKind.SyslogTcp, text, "", uri.Host.Trim('[', ']'), uri.Port);
        }
        throw Refused(text, "use file:/path, syslog+unix:///path or syslog+tcp://host:port");
    }

    private static InvalidOperationException Refused(string text, string why) =>
        new($"--audit-device '{text}' is not an audit device: {why}.");
}
