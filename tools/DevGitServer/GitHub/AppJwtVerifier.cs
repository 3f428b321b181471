using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Xares.DevGitServer.GitHub;

/// <summary>The claims of an app JWT that passed verification.</summary>
internal sealed record AppJwtClaims(string Issuer, long IssuedAt, long ExpiresAt);

/// <summary>
/// Verifies a GitHub App JWT as GitHub documents it: RS256 signed with the app's private key,
/// "iss" the app id (or client id), "iat" not in the future (60 s of drift allowed), "exp" in the
/// future and at most 10 minutes after now.
/// </summary>
internal static class AppJwtVerifier
{
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan Drift = TimeSpan.FromSeconds(60);

    /// <summary>The claims, or the reason (GitHub's wording where it has one) the token is refused.</summary>
    public static (AppJwtClaims? Claims, string? Error) Verify(string jwt, Func<string, RSA?> publicKeyOf, DateTimeOffset now)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return (null, "A JSON web token could not be decoded");
        }
        JsonElement header, payload;
        byte[] signature;
        try
        {
            header = JsonSerializer.Deserialize<JsonElement>(Base64Url.DecodeFromChars(parts[0]));
            payload = JsonSerializer.Deserialize<JsonElement>(Base64Url.DecodeFromChars(parts[1]));
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return (null, "A JSON web token could not be decoded");
        }
        if (!header.TryGetProperty("alg", out var alg) || alg.GetString() != "RS256")
        {
            return (null, "The JWT must be signed with RS256");
        }
        var issuer = payload.TryGetProperty("iss", out var iss)
            ? iss.ValueKind == JsonValueKind.Number ? iss.GetRawText() : iss.ValueKind == JsonValueKind.String ? iss.GetString() : null
            : null;
        if (issuer is null || !payload.TryGetProperty("iat", out var iatElement) || !iatElement.TryGetInt64(out var iat)
            || !payload.TryGetProperty("exp", out var expElement) || !expElement.TryGetInt64(out var exp))
        {
            return (null, "'Issuer' claim ('iss') and the 'iat' and 'exp' claims are required");
        }
        if (publicKeyOf(issuer) is not { } key)
        {
            return (null, "Integration not found");
        }
        if (!key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            return (null, "A JSON web token could not be decoded");
        }
        var nowSeconds = now.ToUnixTimeSeconds();
        if (iat > nowSeconds + (long)Drift.TotalSeconds)
        {
            return (null, "'Issued at' claim ('iat') must be an Integer representing a time in the past");
        }
        if (exp <= nowSeconds || exp > nowSeconds + (long)MaxLifetime.TotalSeconds)
        {
            return (null, "'Expiration time' claim ('exp') is too far in the future or in the past");
        }
        return (new AppJwtClaims(issuer, iat, exp), null);
    }
}
