namespace Xares.Broker.Audit;

/// <summary>How the broker keeps its audit log: external checkpoints, retention and suspicious-activity flags.</summary>
internal sealed record AuditSettings
{
    /// <summary>How often the chain's end is checkpointed outside the database (and at shutdown); zero turns it off.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The checkpoint file; null means `&lt;data-dir&gt;/audit-checkpoints.jsonl`.</summary>
    public string? CheckpointFile { get; init; }

    /// <summary>Records older than this many days are pruned; null keeps everything.</summary>
    public int? RetentionDays { get; init; }

    public AuditFlagThresholds Flags { get; init; } = new();

    /// <summary>--audit-device: files and syslog endpoints every committed record is appended to.</summary>
    public IReadOnlyList<Devices.AuditDeviceAddress> Devices { get; init; } = [];

    /// <summary>--audit-device-required: a write fails unless every device took its records (fail closed).</summary>
    public bool DevicesRequired { get; init; }

    public string CheckpointPath(string dataDirectory) => CheckpointFile ?? Path.Combine(dataDirectory, AuditCheckpointFile.DefaultName);
}

/// <summary>When the detector raises a flag. Windows are fixed; counts and factors are configurable.</summary>
internal sealed record AuditFlagThresholds
{
    /// <summary>How often new audit records are examined; zero turns the detector off.</summary>
    public TimeSpan ScanInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A workspace's leases in the current clock hour above this multiple of its trailing 7-day hourly average…</summary>
    public double LeaseRateFactor { get; init; } = 5;

    /// <summary>…and above this many, raise lease_rate.</summary>
    public int LeaseRateFloor { get; init; } = 60;

    /// <summary>This many git rejections (erase) of one credential within an hour raise repeated_rejections.</summary>
    public int Rejections { get; init; } = 3;

    /// <summary>This many failed authentications from one client address within five minutes raise auth_failures.</summary>
    public int AuthFailures { get; init; } = 20;

    /// <summary>After a flag, the same condition for the same subject raises no other flag for this long.</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromHours(1);

    public static readonly TimeSpan RejectionWindow = TimeSpan.FromHours(1);
    public static readonly TimeSpan AuthFailureWindow = TimeSpan.FromMinutes(5);
}
