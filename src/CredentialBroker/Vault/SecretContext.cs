using System.Buffers.Binary;
using System.Text;

namespace Xares.Broker.Vault;

/// <summary>
/// What a sealed secret is bound to (its associated data): the row, its owner, the secret version
/// and the destination it may be sent to (README, Security notes). Changing any of them in the database
/// makes the secret fail to decrypt.
/// </summary>
internal sealed record SecretContext(string CredentialId, string UserId, long SecretVersion, string Kind, string Provider, string Destination, string Username)
{
    /// <summary>Associated data of the secret's ciphertext.</summary>
    public byte[] Encode() => Encode(null);

    /// <summary>
    /// Associated data of the wrapped data key: the context plus the key-encryption key version, so
    /// re-wrapping under a new version (key rotation) leaves the ciphertext untouched.
    /// </summary>
    public byte[] EncodeForWrap(int kekVersion) => Encode(kekVersion);

    private byte[] Encode(int? kekVersion)
    {
        using var buffer = new MemoryStream();
        Write(buffer, "xares-secret-v1");
        Write(buffer, CredentialId);
        Write(buffer, UserId);
        Write(buffer, SecretVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Write(buffer, Kind);
        Write(buffer, Provider);
        Write(buffer, Destination);
        Write(buffer, Username);
        if (kekVersion is { } version)
        {
            Write(buffer, "kek:" + version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return buffer.ToArray();
    }

    // Length-prefixed fields, so no two different contexts encode to the same bytes.
    internal static void Write(Stream stream, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        stream.Write(length);
        stream.Write(bytes);
    }
}

/// <summary>A secret as stored: its data key wrapped by key-encryption key <see cref="KekVersion"/>, and its ciphertext.</summary>
internal sealed record SealedSecret(int KekVersion, byte[] WrappedDataKey, byte[] Ciphertext);
