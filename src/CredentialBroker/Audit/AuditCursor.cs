using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;

namespace Xares.Broker.Audit;

/// <summary>
/// The position a page of GET /api/v1/audit ended at: base64url of the last record's sequence
/// (8 bytes, big-endian). Opaque to clients, so the encoding can change; strict on the way in,
/// so only cursors the broker issued are accepted.
/// </summary>
internal static class AuditCursor
{
    private const int Length = sizeof(long);

    public static string Encode(long sequence)
    {
        Span<byte> bytes = stackalloc byte[Length];
        BinaryPrimitives.WriteInt64BigEndian(bytes, sequence);
        return Base64Url.EncodeToString(bytes);
    }

    public static bool TryDecode(string cursor, out long sequence)
    {
        sequence = 0;
        // 8 bytes encode to 11 characters; anything else is not ours (and bounds the work).
        if (cursor.Length != Base64Url.GetEncodedLength(Length))
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[Length];
        // The OperationStatus overload: TryDecodeFromChars throws on malformed input.
        if (Base64Url.DecodeFromChars(cursor, bytes, out var consumed, out var written) != OperationStatus.Done || consumed != cursor.Length || written != Length)
        {
            return false;
        }
        sequence = BinaryPrimitives.ReadInt64BigEndian(bytes);
        // Canonical form only: no alternative spellings of the same position.
        return sequence >= 1 && string.Equals(Encode(sequence), cursor, StringComparison.Ordinal);
    }
}
