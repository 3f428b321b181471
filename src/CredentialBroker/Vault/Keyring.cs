using System.Security.Cryptography;
using System.Text;
using System.Data.Common;
using Xares.Broker.Storage;

namespace Xares.Broker.Vault;

/// <summary>
/// The versioned key-encryption keys (stored wrapped under the master key in the keyring table)
/// and the envelope operations built on them: each secret version gets a fresh data key, sealed
/// with the secret's <see cref="SecretContext"/> as associated data and wrapped by the current
/// key-encryption key. Older versions stay readable.
/// </summary>
internal sealed class Keyring
{
    private const int KeySize = 32;
    private readonly Dictionary<int, byte[]> _keys;

    private Keyring(Dictionary<int, byte[]> keys)
    {
        _keys = keys;
        CurrentVersion = keys.Keys.Max();
    }

    public int CurrentVersion { get; }

    public IReadOnlyCollection<int> Versions => _keys.Keys;

    /// <summary>Loads the keyring, creating version 1 on an empty database.</summary>
    /// <exception cref="InvalidOperationException">The master key does not open the stored keyring.</exception>
    public static Keyring LoadOrCreate(Database database, MasterKey masterKey, TimeProvider time)
    {
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        var rows = Sql.Query(connection, transaction, "SELECT version, wrapped_key FROM keyring ORDER BY version",
            r => (Version: r.GetInt32(0), Wrapped: (byte[])r["wrapped_key"]));
        if (rows.Count == 0)
        {
            var key = RandomNumberGenerator.GetBytes(KeySize);
            Insert(connection, transaction, masterKey, 1, key, time);
            transaction.Commit();
            return new Keyring(new Dictionary<int, byte[]> { [1] = key });
        }
        transaction.Commit();

        var keys = new Dictionary<int, byte[]>();
        foreach (var (version, wrapped) in rows)
        {
            try
            {
                keys[version] = AesGcmBox.Open(masterKey.Key, wrapped, KeyringAssociatedData(version));
            }
            catch (SecretIntegrityException)
            {
                throw new InvalidOperationException(
                    $"The master key ({masterKey.Source}) does not open keyring version {version}; this database was created with another master key.");
            }
        }
        return new Keyring(keys);
    }

    private static void Insert(DbConnection connection, DbTransaction transaction, MasterKey masterKey, int version, byte[] key, TimeProvider time) =>
        Sql.Execute(connection, transaction, "INSERT INTO keyring (version, wrapped_key, created_at) VALUES (@v, @k, @t)",
            ("@v", version), ("@k", AesGcmBox.Seal(masterKey.Key, key, KeyringAssociatedData(version))), ("@t", time.GetUtcNow().ToDb()));

    private static byte[] KeyringAssociatedData(int version) => Encoding.UTF8.GetBytes($"xares-keyring-v1:{version}");

    public SealedSecret Seal(ReadOnlySpan<byte> secret, SecretContext context)
    {
        var version = CurrentVersion;
        var associatedData = context.Encode(version);
        var dataKey = RandomNumberGenerator.GetBytes(KeySize);
        try
        {
            var ciphertext = AesGcmBox.Seal(dataKey, secret, associatedData);
            var wrapped = AesGcmBox.Seal(_keys[version], dataKey, associatedData);
            return new SealedSecret(version, wrapped, ciphertext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <exception cref="SecretIntegrityException">The sealed secret does not belong to this context, or was altered.</exception>
    public byte[] Open(SealedSecret sealedSecret, SecretContext context)
    {
        if (!_keys.TryGetValue(sealedSecret.KekVersion, out var kek))
        {
            throw new SecretIntegrityException();
        }
        var associatedData = context.Encode(sealedSecret.KekVersion);
        var dataKey = AesGcmBox.Open(kek, sealedSecret.WrappedDataKey, associatedData);
        try
        {
            return AesGcmBox.Open(dataKey, sealedSecret.Ciphertext, associatedData);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>The audit chain's HMAC key for a keyring version, derived so it is never stored.</summary>
    public byte[] AuditKey(int version) =>
        _keys.TryGetValue(version, out var kek)
            ? HKDF.DeriveKey(HashAlgorithmName.SHA256, kek, KeySize, info: Encoding.UTF8.GetBytes("xares-audit-chain-v1"))
            : throw new KeyNotFoundException($"Keyring version {version} is not loaded.");
}
