using System.Buffers.Binary;
using System.Globalization;
using Xares.Broker.Vault;

namespace Xares.Broker.Audit;

/// <summary>A stored audit record, as read back and as chained.</summary>
internal sealed record AuditRecord(
    long Sequence,
    DateTimeOffset At,
    string Action,
    string Outcome,
    string? Actor,
    string? UserId,
    string? WorkspaceId,
    string? CredentialId,
    string? LeaseId,
    string? RemoteAddress,
    string? Detail,
    int KeyVersion)
{
    public const string Columns = "seq, at, action, outcome, actor, user_id, workspace_id, credential_id, lease_id, remote_address, detail, key_version";

    public static AuditRecord Read(System.Data.Common.DbDataReader r) => new(
        r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetString(2), r.GetString(3),
        r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6),
        r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8), r.IsDBNull(9) ? null : r.GetString(9),
        r.IsDBNull(10) ? null : r.GetString(10), r.GetInt32(11));

    /// <summary>
    /// The bytes the chain MAC covers: every field (length-prefixed, null distinct from empty)
    /// plus the previous record's MAC, so editing, removing or reordering any record breaks
    /// every MAC after it.
    /// </summary>
    public byte[] ChainInput(ReadOnlySpan<byte> previousMac)
    {
        using var buffer = new MemoryStream();
        SecretContext.Write(buffer, "xares-audit-v1");
        SecretContext.Write(buffer, Sequence.ToString(CultureInfo.InvariantCulture));
        SecretContext.Write(buffer, At.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        foreach (var field in new[] { Action, Outcome, Actor, UserId, WorkspaceId, CredentialId, LeaseId, RemoteAddress, Detail })
        {
            if (field is null)
            {
                buffer.WriteByte(0);
            }
            else
            {
                buffer.WriteByte(1);
                SecretContext.Write(buffer, field);
            }
        }
        SecretContext.Write(buffer, KeyVersion.ToString(CultureInfo.InvariantCulture));
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, previousMac.Length);
        buffer.Write(length);
        buffer.Write(previousMac);
        return buffer.ToArray();
    }
}
