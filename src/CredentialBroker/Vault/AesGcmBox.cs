using System.Security.Cryptography;

namespace Xares.Broker.Vault;

/// <summary>AES-256-GCM with a fresh 96-bit random nonce; the output is nonce || ciphertext || tag.</summary>
internal static class AesGcmBox
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public static byte[] Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var output = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize, plaintext.Length), output.AsSpan(NonceSize + plaintext.Length), associatedData);
        return output;
    }

    /// <exception cref="SecretIntegrityException">The box was altered, moved, or sealed under another key.</exception>
    public static byte[] Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> box, ReadOnlySpan<byte> associatedData)
    {
        if (box.Length < NonceSize + TagSize)
        {
            throw new SecretIntegrityException();
        }
        var plaintext = new byte[box.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(box[..NonceSize], box.Slice(NonceSize, plaintext.Length), box[^TagSize..], plaintext, associatedData);
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new SecretIntegrityException();
        }
    }
}

/// <summary>A sealed value failed authentication: edited, copied to another row, or wrong key.</summary>
internal sealed class SecretIntegrityException() : Exception("A sealed value failed its integrity check.");
