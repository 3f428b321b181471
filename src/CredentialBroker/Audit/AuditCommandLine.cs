using System.CommandLine;
using Xares.Broker.Hosting;

namespace Xares.Broker.Audit;

/// <summary>The audit options of `xares-broker serve` (and the checkpoint file of `audit verify`), each also an XARES_AUDIT_* variable.</summary>
internal static class AuditCommandLine
{
    public static readonly Option<string> CheckpointFile = new("--audit-checkpoint-file")
    {
        Description = "Append-only file of audit checkpoints, ideally on another volume (env XARES_AUDIT_CHECKPOINT_FILE, default <data-dir>/audit-checkpoints.jsonl).",
    };

    private static readonly Option<int?> CheckpointInterval = new("--audit-checkpoint-interval")
    {
        Description = "Seconds between audit checkpoints outside the database; 0 turns them off (env XARES_AUDIT_CHECKPOINT_INTERVAL, default 60).",
    };

    private static readonly Option<int?> RetentionDays = new("--audit-retention-days")
    {
        Description = "Prune audit records older than this many days (env XARES_AUDIT_RETENTION_DAYS; default: keep everything).",
    };

    private static readonly Option<int?> FlagInterval = new("--audit-flag-interval")
    {
        Description = "Seconds between suspicious-activity scans of new audit records; 0 turns them off (env XARES_AUDIT_FLAG_INTERVAL, default 10).",
    };

    private static readonly Option<double?> FlagLeaseFactor = new("--audit-flag-lease-factor")
    {
        Description = "Flag a workspace whose leases this hour exceed this multiple of its 7-day hourly average (env XARES_AUDIT_FLAG_LEASE_FACTOR, default 5).",
    };

    private static readonly Option<int?> FlagLeaseFloor = new("--audit-flag-lease-floor")
    {
        Description = "…and exceed this many (env XARES_AUDIT_FLAG_LEASE_FLOOR, default 60).",
    };

    private static readonly Option<int?> FlagRejections = new("--audit-flag-rejections")
    {
        Description = "Flag a credential git rejected this many times within an hour (env XARES_AUDIT_FLAG_REJECTIONS, default 3).",
    };

    private static readonly Option<int?> FlagAuthFailures = new("--audit-flag-auth-failures")
    {
        Description = "Flag a client address with this many failed authentications within 5 minutes (env XARES_AUDIT_FLAG_AUTH_FAILURES, default 20).",
    };

    private static readonly Option<string[]> Device = new("--audit-device")
    {
        Description = "Also append every committed audit record to file:/path, syslog+unix:///dev/log or syslog+tcp://host:port; repeat it "
            + "(env XARES_AUDIT_DEVICE, comma-separated).",
    };

    private static readonly Option<bool?> DeviceRequired = new("--audit-device-required")
    {
        Description = "Fail closed: a write whose audit records an --audit-device cannot take fails with 503 and nothing commits (env XARES_AUDIT_DEVICE_REQUIRED=true).",
    };

    public static IEnumerable<Option> ServeOptions =>
        [CheckpointFile, CheckpointInterval, RetentionDays, FlagInterval, FlagLeaseFactor, FlagLeaseFloor, FlagRejections, FlagAuthFailures, Device, DeviceRequired];

    public static AuditSettings Read(ParseResult parse)
    {
        var defaults = new AuditSettings();
        var flags = defaults.Flags;
        return new AuditSettings
        {
            CheckpointFile = OptionValues.Text(parse, CheckpointFile, "XARES_AUDIT_CHECKPOINT_FILE"),
            CheckpointInterval = TimeSpan.FromSeconds(OptionValues.Number(parse, CheckpointInterval, "XARES_AUDIT_CHECKPOINT_INTERVAL", 0, OptionValues.MaxIntervalSeconds) ?? defaults.CheckpointInterval.TotalSeconds),
            RetentionDays = (int?)OptionValues.Number(parse, RetentionDays, "XARES_AUDIT_RETENTION_DAYS", 1, OptionValues.MaxRetentionDays),
            Devices = ReadDevices(parse),
            DevicesRequired = OptionValues.Flag(parse, DeviceRequired, "XARES_AUDIT_DEVICE_REQUIRED"),
            Flags = new AuditFlagThresholds
            {
                ScanInterval = TimeSpan.FromSeconds(OptionValues.Number(parse, FlagInterval, "XARES_AUDIT_FLAG_INTERVAL", 0, OptionValues.MaxIntervalSeconds) ?? flags.ScanInterval.TotalSeconds),
                LeaseRateFactor = OptionValues.Number(parse, FlagLeaseFactor, "XARES_AUDIT_FLAG_LEASE_FACTOR", 1) ?? flags.LeaseRateFactor,
                LeaseRateFloor = (int)(OptionValues.Number(parse, FlagLeaseFloor, "XARES_AUDIT_FLAG_LEASE_FLOOR", 1) ?? flags.LeaseRateFloor),
                Rejections = (int)(OptionValues.Number(parse, FlagRejections, "XARES_AUDIT_FLAG_REJECTIONS", 1) ?? flags.Rejections),
                AuthFailures = (int)(OptionValues.Number(parse, FlagAuthFailures, "XARES_AUDIT_FLAG_AUTH_FAILURES", 1) ?? flags.AuthFailures),
            },
        };
    }

    private static List<Devices.AuditDeviceAddress> ReadDevices(ParseResult parse)
    {
        var devices = new List<Devices.AuditDeviceAddress>();
        var given = OptionValues.Texts(parse, Device, "XARES_AUDIT_DEVICE")
            .SelectMany(text => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        foreach (var text in given)
        {
            OptionValues.Check(parse, () => devices.Add(Devices.AuditDeviceAddress.Parse(text)));
        }
        if (devices.DistinctBy(d => d.Name).Count() != devices.Count)
        {
            OptionValues.Check(parse, () => throw new InvalidOperationException("--audit-device names the same device twice."));
        }
        if (OptionValues.Flag(parse, DeviceRequired, "XARES_AUDIT_DEVICE_REQUIRED") && devices.Count == 0)
        {
            OptionValues.Check(parse, () => throw new InvalidOperationException("--audit-device-required needs at least one --audit-device."));
        }
        return devices;
    }
}
