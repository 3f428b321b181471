using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;

namespace Xares.Broker.CredentialHealth;

/// <summary>Where a page of the credential listing ended: the last credential's creation time and id, in listing order.</summary>
internal readonly record struct CredentialListingPosition(long CreatedAt, string Id);

/// <summary>
/// The nextCursor of GET /api/v1/credentials: base64url of the last listed credential's creation
/// time (8 bytes, big-endian, unix ms) followed by its id (ASCII, cred_…). Opaque to clients; strict on
/// the way in, so only cursors the broker issued are accepted.
/// </summary>
internal static class CredentialListingCursor
{
    private const int MaxIdLength = 64;

    public static string Encode(CredentialListingPosition position)
    {
        var bytes = new byte[sizeof(long) + position.Id.Length];
        BinaryPrimitives.WriteInt64BigEndian(bytes, position.CreatedAt);
        Encoding.ASCII.GetBytes(position.Id, bytes.AsSpan(sizeof(long)));
        return Base64Url.EncodeToString(bytes);
    }

    public static bool TryDecode(string cursor, out CredentialListingPosition position)
    {
        position = default;
        if (cursor.Length > Base64Url.GetEncodedLength(sizeof(long) + MaxIdLength))
        {
            return false;
        }
        var bytes = new byte[Base64Url.GetMaxDecodedLength(cursor.Length)];
        // The OperationStatus overload: TryDecodeFromChars throws on malformed input.
        if (Base64Url.DecodeFromChars(cursor, bytes, out var consumed, out var written) != OperationStatus.Done || consumed != cursor.Length
            || written <= sizeof(long))
        {
            return false;
        }
        var id = bytes.AsSpan(sizeof(long), written - sizeof(long));
        if (!id.StartsWith("cred_"u8) || id.ContainsAnyExceptInRange((byte)'!', (byte)'~'))
        {
            return false;
        }
        position = new CredentialListingPosition(BinaryPrimitives.ReadInt64BigEndian(bytes), Encoding.ASCII.GetString(id));
        // Canonical form only: no alternative spellings of the same position.
        return string.Equals(Encode(position), cursor, StringComparison.Ordinal);
    }
}
