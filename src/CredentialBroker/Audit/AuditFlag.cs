using System.Data.Common;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>
/// A suspicious-activity flag: what was seen, about whom, and the audit record that raised it
/// (<see cref="Sequence"/>, also the listing's order). Flags inform; they never block anything.
/// </summary>
internal sealed record AuditFlag(long Sequence, string Id, string Kind, DateTimeOffset RaisedAt, string? UserId, string? WorkspaceId,
    string? CredentialId, string? RemoteAddress, string Detail, DateTimeOffset? AcknowledgedAt, string? AcknowledgedBy)
{
    public const string Columns = "seq, id, kind, raised_at, user_id, workspace_id, credential_id, remote_address, detail, acknowledged_at, acknowledged_by";

    public static AuditFlag Read(DbDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.Time(3), r.NullableString(4), r.NullableString(5), r.NullableString(6),
        r.NullableString(7), r.GetString(8), r.NullableTime(9), r.NullableString(10));
}

/// <summary>Stable flag kinds, returned by GET /api/v1/audit/flags.</summary>
internal static class AuditFlagKinds
{
    /// <summary>A workspace issued far more leases this hour than its trailing 7-day hourly average.</summary>
    public const string LeaseRate = "lease_rate";

    /// <summary>A workspace's session or lease request came from an address it was never seen from.</summary>
    public const string NewAddress = "new_address";

    /// <summary>Git rejected one credential's secret repeatedly (erase).</summary>
    public const string RepeatedRejections = "repeated_rejections";

    /// <summary>A burst of failed authentications from one client address.</summary>
    public const string AuthFailures = "auth_failures";
}
