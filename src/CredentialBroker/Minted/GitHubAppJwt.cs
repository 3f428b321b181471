using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Xares.Broker.Minted;

/// <summary>
/// The JSON Web Token a GitHub App authenticates as itself with: RS256 over
/// {"iat": now − 60 s, "exp": now + 9 min, "iss": app id}. GitHub refuses an exp more than 10
/// minutes ahead and recommends backdating iat by 60 s against clock drift. Three fixed fields
/// need no JWT library: System.Security.Cryptography signs, the rest is base64url.
/// </summary>
internal static class GitHubAppJwt
{
    public static readonly TimeSpan Backdate = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(9);

    private static readonly string Header = Base64Url.EncodeToString("""{"alg":"RS256","typ":"JWT"}"""u8);

    public static string Create(RSA key, string appId, DateTimeOffset now)
    {
        var iat = (now - Backdate).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var exp = (now + Lifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        // The app id is digits or a client id ([A-Za-z0-9.]), checked at registration: nothing to escape.
        var issuer = long.TryParse(appId, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? appId : $"\"{appId}\"";
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"iat":{{iat}},"exp":{{exp}},"iss":{{issuer}}}"""));
        var signingInput = $"{Header}.{payload}";
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signingInput}.{Base64Url.EncodeToString(signature)}";
    }

    /// <summary>
    /// Reads a PEM RSA private key (PKCS#1 "RSA PRIVATE KEY", as GitHub downloads it, or PKCS#8
    /// "PRIVATE KEY"); null when it is not one, is public only, or is shorter than 2048 bits.
    /// </summary>
    public static RSA? TryImportPrivateKey(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            if (rsa.KeySize < 2048)
            {
                rsa.Dispose();
                return null;
            }
            // A public key imports too; only a private key can sign.
            rsa.SignData([0], HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            return rsa;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            return null;
        }
    }

    /// <summary>A safe-to-show fingerprint: SHA-256 of the public key (SubjectPublicKeyInfo), as "SHA256:" + base64.</summary>
    public static string Fingerprint(RSA key) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
}
