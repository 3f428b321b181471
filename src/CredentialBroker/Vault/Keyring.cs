using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Xares.Broker.Storage;

namespace Xares.Broker.Vault;

/// <summary>
/// The versioned key-encryption keys (stored wrapped under the master key in the keyring table)
/// and the envelope operations built on them: each secret version gets a fresh data key, which
/// encrypts the secret with its <see cref="SecretContext"/> as associated data and is wrapped by
/// the current key-encryption key. Older versions stay readable; a version added by
/// `keys rotate` in another process is picked up on first sight and within seconds for new writes.
/// </summary>
internal sealed class Keyring
{
    private const int KeySize = 32;

    /// <summary>How long a process may keep using a superseded current version before it looks again.</summary>
    public static readonly TimeSpan CurrentVersionRecheck = TimeSpan.FromSeconds(5);

    private readonly Database _database;
    private readonly MasterKey _masterKey;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<int, byte[]> _auditKeys = new();
    private readonly Lock _reloadLock = new();
    private volatile FrozenDictionary<int, byte[]> _keys;
    private long _checkedAtTicks;

    private Keyring(Database database, MasterKey masterKey, TimeProvider time, FrozenDictionary<int, byte[]> keys)
    {
        _database = database;
        _masterKey = masterKey;
        _time = time;
        _keys = keys;
        _checkedAtTicks = time.GetTimestamp();
    }

    /// <summary>The version new secrets and audit records use (rechecked against the database every few seconds).</summary>
    public int CurrentVersion
    {
        get
        {
            if (_time.GetElapsedTime(Interlocked.Read(ref _checkedAtTicks)) > CurrentVersionRecheck)
            {
                Interlocked.Exchange(ref _checkedAtTicks, _time.GetTimestamp());
                var latest = _database.ReadAsync(c => Convert.ToInt32(Sql.Scalar(c, null, "SELECT MAX(version) FROM keyring") ?? 0)).GetAwaiter().GetResult();
                if (!_keys.ContainsKey(latest))
                {
                    Reload();
                }
            }
            return _keys.Keys.Max();
        }
    }

    public IReadOnlyCollection<int> Versions => _keys.Keys;

    /// <summary>Loads the keyring, creating version 1 on an empty database.</summary>
    /// <exception cref="InvalidOperationException">The master key does not open the stored keyring.</exception>
    public static Keyring LoadOrCreate(Database database, MasterKey masterKey, TimeProvider time)
    {
        using (var connection = database.Open())
        using (var transaction = connection.BeginTransaction())
        {
            Database.LockForWrite(connection, transaction); // replicas starting together create one keyring
            if (Sql.Scalar(connection, transaction, "SELECT COUNT(*) FROM keyring") is 0L or 0)
            {
                // Nothing is wrapped yet, so there is nothing to re-wrap: version 1 starts out complete.
                Insert(connection, transaction, masterKey, 1, RandomNumberGenerator.GetBytes(KeySize), time, rewrapped: true);
            }
            transaction.Commit();
        }
        return new Keyring(database, masterKey, time, Load(database, masterKey));
    }

    private static FrozenDictionary<int, byte[]> Load(Database database, MasterKey masterKey)
    {
        var rows = database.ReadAsync(c => Sql.Query(c, null, "SELECT version, wrapped_key FROM keyring ORDER BY version",
            r => (Version: Convert.ToInt32(r.GetValue(0)), Wrapped: (byte[])r["wrapped_key"]))).GetAwaiter().GetResult();
        var keys = new Dictionary<int, byte[]>();
        foreach (var (version, wrapped) in rows)
        {
            keys[version] = OpenVersion(masterKey, version, wrapped);
        }
        return keys.ToFrozenDictionary();
    }

    private static byte[] OpenVersion(MasterKey masterKey, int version, byte[] wrapped)
    {
        try
        {
            return AesGcmBox.Open(masterKey.Key, wrapped, KeyringAssociatedData(version));
        }
        catch (SecretIntegrityException)
        {
            throw new InvalidOperationException(
                $"The master key ({masterKey.Source}) does not open keyring version {version}; this database was created with another master key.");
        }
    }

    private void Reload()
    {
        lock (_reloadLock)
        {
            _keys = Load(_database, _masterKey);
        }
    }

    private byte[]? KeyFor(int version)
    {
        if (_keys.TryGetValue(version, out var key))
        {
            return key;
        }
        Reload();
        return _keys.GetValueOrDefault(version);
    }

    /// <summary>
    /// The version an unfinished rotation was re-wrapping to (resumed), or else a new version,
    /// committed and current before any re-wrap, and marked unfinished until <see cref="CompleteRotation"/>.
    /// <paramref name="added"/> runs in the transaction that adds it (the audit record commits with it).
    /// </summary>
    public (int Version, bool Resumed) BeginRotation(Action<DbConnection, DbTransaction, int> added)
    {
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction();
        Database.LockForWrite(connection, transaction);
        if (UnfinishedRotation(connection, transaction) is { } unfinished)
        {
            transaction.Commit();
            return (unfinished, true);
        }
        var next = Convert.ToInt32(Sql.Scalar(connection, transaction, "SELECT MAX(version) FROM keyring") ?? 0) + 1;
        Insert(connection, transaction, _masterKey, next, RandomNumberGenerator.GetBytes(KeySize), _time, rewrapped: false);
        added(connection, transaction, next);
        transaction.Commit();
        Reload();
        return (next, false);
    }

    public void CompleteRotation(int version) =>
        _database.ReadAsync(c => Sql.Execute(c, null, "UPDATE keyring SET rewrapped_at = @t WHERE version = @v", ("@t", _time.GetUtcNow().ToDb()), ("@v", version)))
            .GetAwaiter().GetResult();

    /// <summary>The version a rotation started re-wrapping to and did not finish, if any.</summary>
    public static int? UnfinishedRotation(DbConnection connection, DbTransaction? transaction) =>
        Sql.Scalar(connection, transaction, "SELECT MIN(version) FROM keyring WHERE rewrapped_at IS NULL") is { } v and not DBNull
            ? Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    /// <summary>Deletes versions inside the caller's transaction; <see cref="Forget"/> them once it commits.</summary>
    public static void Delete(DbConnection connection, DbTransaction transaction, IEnumerable<int> versions)
    {
        foreach (var version in versions)
        {
            Sql.Execute(connection, transaction, "DELETE FROM keyring WHERE version = @v", ("@v", version));
        }
    }

    /// <summary>Drops versions deleted from the database from this process's keyring.</summary>
    public void Forget(IEnumerable<int> versions)
    {
        foreach (var version in versions)
        {
            _auditKeys.TryRemove(version, out _);
        }
        Reload();
    }

    /// <summary>
    /// Re-wraps every keyring version under <paramref name="newMasterKey"/> in one transaction. The
    /// versions are read inside it, not taken from what this process loaded: a rotation that
    /// finished since then added a version that must not stay under the old master key.
    /// </summary>
    /// <exception cref="InvalidOperationException">The master key does not open a stored version.</exception>
    public void Rekey(MasterKey newMasterKey)
    {
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction();
        Database.LockForWrite(connection, transaction);
        var rows = Sql.Query(connection, transaction, "SELECT version, wrapped_key FROM keyring ORDER BY version",
            r => (Version: Convert.ToInt32(r.GetValue(0)), Wrapped: (byte[])r["wrapped_key"]));
        foreach (var (version, wrapped) in rows)
        {
            var key = OpenVersion(_masterKey, version, wrapped);
            try
            {
                Sql.Execute(connection, transaction, "UPDATE keyring SET wrapped_key = @k WHERE version = @v",
                    ("@k", AesGcmBox.Seal(newMasterKey.Key, key, KeyringAssociatedData(version))), ("@v", version));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }
        transaction.Commit();
    }

    private static void Insert(DbConnection connection, DbTransaction transaction, MasterKey masterKey, int version, byte[] key, TimeProvider time, bool rewrapped)
    {
        var now = time.GetUtcNow().ToDb();
        Sql.Execute(connection, transaction, "INSERT INTO keyring (version, wrapped_key, created_at, rewrapped_at) VALUES (@v, @k, @t, @r)",
            ("@v", version), ("@k", AesGcmBox.Seal(masterKey.Key, key, KeyringAssociatedData(version))), ("@t", now), ("@r", rewrapped ? now : null));
    }

    private static byte[] KeyringAssociatedData(int version) => Encoding.UTF8.GetBytes($"xares-keyring-v1:{version}");

    public SealedSecret Seal(ReadOnlySpan<byte> secret, SecretContext context)
    {
        var dataKey = RandomNumberGenerator.GetBytes(KeySize);
        try
        {
            var ciphertext = AesGcmBox.Seal(dataKey, secret, context.Encode());
            return Wrap(dataKey, context, ciphertext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <exception cref="SecretIntegrityException">The sealed secret does not belong to this context, or was altered.</exception>
    public byte[] Open(SealedSecret sealedSecret, SecretContext context)
    {
        var dataKey = Unwrap(sealedSecret, context);
        try
        {
            return AesGcmBox.Open(dataKey, sealedSecret.Ciphertext, context.Encode());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>The same secret with its data key wrapped by the current version; the ciphertext is unchanged.</summary>
    /// <exception cref="SecretIntegrityException">The sealed secret does not belong to this context, or was altered.</exception>
    public SealedSecret Rewrap(SealedSecret sealedSecret, SecretContext context)
    {
        var dataKey = Unwrap(sealedSecret, context);
        try
        {
            return Wrap(dataKey, context, sealedSecret.Ciphertext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    private SealedSecret Wrap(byte[] dataKey, SecretContext context, byte[] ciphertext)
    {
        var version = CurrentVersion;
        return new SealedSecret(version, AesGcmBox.Seal(_keys[version], dataKey, context.EncodeForWrap(version)), ciphertext);
    }

    private byte[] Unwrap(SealedSecret sealedSecret, SecretContext context)
    {
        var kek = KeyFor(sealedSecret.KekVersion) ?? throw new SecretIntegrityException();
        return AesGcmBox.Open(kek, sealedSecret.WrappedDataKey, context.EncodeForWrap(sealedSecret.KekVersion));
    }

    /// <summary>The audit chain's HMAC key for a keyring version, derived so it is never stored.</summary>
    public byte[] AuditKey(int version) =>
        _auditKeys.GetOrAdd(version, v => KeyFor(v) is { } kek
            ? HKDF.DeriveKey(HashAlgorithmName.SHA256, kek, KeySize, info: Encoding.UTF8.GetBytes("xares-audit-chain-v1"))
            : throw new KeyNotFoundException($"Keyring version {v} is not in the keyring."));
}
