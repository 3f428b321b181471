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

    public static string NewId(string prefix) => prefix + Guid.CreateVersion7().ToString("N");

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
