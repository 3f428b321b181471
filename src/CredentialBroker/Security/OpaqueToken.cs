using System.Security.Cryptography;
using System.Text;

namespace Xares.Broker.Security;

/// <summary>
/// Random bearer tokens: a scanning-friendly prefix (xar_ API key, xbt_ bootstrap, xst_ session)
/// and 256 random bits, stored only as a SHA-256 hash. Hashes of high-entropy values need no salt.
/// </summary>
internal static class OpaqueToken
{
    public const string ApiKeyPrefix = "xar_";
    public const string BootstrapPrefix = "xbt_";
    public const string SessionPrefix = "xst_";

    public static string Create(string prefix) => prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>True when the text has the shape of a token of this kind (cheap pre-check before any lookup).</summary>
    public static bool HasShape(string? token, string prefix) =>
        token is { Length: > 40 and < 100 } && token.StartsWith(prefix, StringComparison.Ordinal);

    private static readonly Lock IdClock = new();
    private static long _idMillisecond;
    private static int _idCounter;

    /// <summary>
    /// A row id: the prefix and a version 7 UUID (RFC 9562) as 32 hex digits. Its 12-bit rand_a
    /// field counts within the millisecond (RFC 9562 section 6.2, method 1), so the ids this broker
    /// mints sort in the order it minted them even within one millisecond. Listings and the "oldest
    /// credential wins" tie-break order by (created_at, id); rows created in the same millisecond
    /// then keep their creation order instead of a random one. The last 62 bits are random.
    /// </summary>
    public static string NewId(string prefix)
    {
        long millisecond;
        int counter;
        lock (IdClock)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            if (now > _idMillisecond)
            {
                (_idMillisecond, _idCounter) = (now, 0);
            }
            else if (++_idCounter > 0xFFF)
            {
                // 4096 ids in one millisecond (or a clock stepped back): borrow the next one.
                (_idMillisecond, _idCounter) = (_idMillisecond + 1, 0);
            }
            (millisecond, counter) = (_idMillisecond, _idCounter);
        }
        Span<byte> uuid = stackalloc byte[16];
        RandomNumberGenerator.Fill(uuid[8..]);
        for (var i = 0; i < 6; i++)
        {
            uuid[i] = (byte)(millisecond >> (8 * (5 - i)));
        }
        uuid[6] = (byte)(0x70 | (counter >> 8));
        uuid[7] = (byte)counter;
        uuid[8] = (byte)(0x80 | (uuid[8] & 0x3F));
        return prefix + Convert.ToHexStringLower(uuid);
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
