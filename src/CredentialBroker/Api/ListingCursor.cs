using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Xares.Broker.Credentials;
using Xares.Broker.Storage;

namespace Xares.Broker.Api;

/// <summary>Where a page of a listing in (created_at, id) order ended: its last row's creation time and id.</summary>
internal readonly record struct ListingPosition(long CreatedAt, string Id)
{
    /// <summary>
    /// The end of a listing query's WHERE clause (after its own conditions and an AND): the rows
    /// after a position, in listing order, at most @count. Bind it with <see cref="Parameters"/>.
    /// </summary>
    public const string AfterSql = "(created_at > @at OR (created_at = @at AND id > @id)) ORDER BY created_at, id LIMIT @count";

    /// <summary>The position of a row created (or, for leases, issued) at <paramref name="at"/>.</summary>
    public static ListingPosition Of(DateTimeOffset at, string id) => new(at.ToDb(), id);

    /// <summary>Before every row.</summary>
    public static ListingPosition Start { get; } = new(long.MinValue, "");

    /// <summary>The parameters of <see cref="AfterSql"/> for up to <paramref name="count"/> rows after this position.</summary>
    public (string Name, object? Value)[] Parameters(int count) => [("@at", CreatedAt), ("@id", Id), ("@count", count)];
}

/// <summary>
/// The nextCursor of the listings paged by keyset: over (created_at, id) for credentials,
/// workspaces and users, and newest first over (issued_at, id) for leases. It is the
/// base64url of the last row's creation time (8 bytes, big-endian, unix ms) followed by its id
/// (ASCII). Opaque to clients; strict on the way in, so only cursors the broker issued for that
/// listing (its id prefix) are accepted.
/// </summary>
internal static class ListingCursor
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    private const int MaxIdLength = 64;

    /// <summary>How the paged listings' limit and cursor work, for their OpenAPI summaries.</summary>
    public static readonly string QueryHelp = $"limit (default {DefaultLimit}, at most {MaxLimit}) and cursor (the nextCursor of the previous page) page.";

    /// <summary>
    /// The limit and cursor of a listing that has no other fields to check: a bad one is a 400
    /// naming the field ("The <paramref name="listing"/> listing query is not valid.").
    /// </summary>
    public static (int Limit, ListingPosition? After) ParsePage(string? limit, string? cursor, string idPrefix, string listing)
    {
        var errors = new FieldErrors();
        var page = ParsePage(errors, limit, cursor, idPrefix);
        errors.ThrowIfAny($"The {listing} listing query is not valid.");
        return page;
    }

    /// <summary>The limit and cursor query parameters of a page request; problems go to <paramref name="errors"/>.</summary>
    public static (int Limit, ListingPosition? After) ParsePage(FieldErrors errors, string? limit, string? cursor, string idPrefix)
    {
        var pageSize = DefaultLimit;
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            errors.Add("limit", $"limit must be a whole number from 1 to {MaxLimit}.");
        }
        ListingPosition? after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (TryDecode(cursor, idPrefix, out var position))
            {
                after = position;
            }
            else
            {
                errors.Add("cursor", "cursor must be the nextCursor of a previous page, unchanged.");
            }
        }
        return (pageSize, after);
    }

    public static string Encode(ListingPosition position)
    {
        var bytes = new byte[sizeof(long) + position.Id.Length];
        BinaryPrimitives.WriteInt64BigEndian(bytes, position.CreatedAt);
        Encoding.ASCII.GetBytes(position.Id, bytes.AsSpan(sizeof(long)));
        return Base64Url.EncodeToString(bytes);
    }

    public static bool TryDecode(string cursor, string idPrefix, out ListingPosition position)
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
        if (!id.StartsWith(Encoding.ASCII.GetBytes(idPrefix)) || id.ContainsAnyExceptInRange((byte)'!', (byte)'~'))
        {
            return false;
        }
        position = new ListingPosition(BinaryPrimitives.ReadInt64BigEndian(bytes), Encoding.ASCII.GetString(id));
        // Canonical form only: no alternative spellings of the same position.
        return string.Equals(Encode(position), cursor, StringComparison.Ordinal);
    }

    /// <summary>
    /// One page from rows read one past it (<paramref name="rows"/> holds up to limit + 1, in
    /// listing order): the page, and the cursor of the next one (from the last row's
    /// <paramref name="position"/>), or null on the last page.
    /// </summary>
    public static (List<T> Items, string? NextCursor) Page<T>(List<T> rows, int limit, Func<T, ListingPosition> position) =>
        rows.Count <= limit ? (rows, null) : (rows[..limit], Encode(position(rows[limit - 1])));
}
