using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xares.Broker.Vault;

namespace Xares.Broker.Connections;

/// <summary>An access token and (usually) a refresh token, sealed together as one secret.</summary>
internal sealed record TokenPair(string AccessToken, string? RefreshToken)
{
    public SealedSecret Seal(Keyring keyring, SecretContext context)
    {
        var plaintext = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string?> { ["a"] = AccessToken, ["r"] = RefreshToken });
        try
        {
            return keyring.Seal(plaintext, context);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Throws <see cref="SecretIntegrityException"/> when the row was tampered with.</summary>
    public static TokenPair Open(Keyring keyring, SealedSecret sealedPair, SecretContext context)
    {
        var plaintext = keyring.Open(sealedPair, context);
        try
        {
            using var document = JsonDocument.Parse(plaintext);
            var root = document.RootElement;
            return new TokenPair(root.GetProperty("a").GetString()!, root.TryGetProperty("r", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    public static SealedSecret SealText(Keyring keyring, string text, SecretContext context)
    {
        var plaintext = Encoding.UTF8.GetBytes(text);
        try
        {
            return keyring.Seal(plaintext, context);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    public static string OpenText(Keyring keyring, SealedSecret sealedText, SecretContext context) =>
        Encoding.UTF8.GetString(keyring.Open(sealedText, context));

    public override string ToString() => $"{nameof(TokenPair)} {{ AccessToken = [redacted], RefreshToken = {(RefreshToken is null ? "none" : "[redacted]")} }}";
}
