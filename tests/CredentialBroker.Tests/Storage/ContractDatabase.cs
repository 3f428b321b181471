using System.Security.Cryptography;
using Xares.Broker.Audit;
using Xares.Broker.Revocations;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Storage;

/// <summary>
/// A fresh, migrated database on one backend, plus as many "replicas" as a test wants: each
/// replica is what one broker process holds (its own connections, keyring, audit chain and
/// write queue) on the shared database and master key.
/// </summary>
internal sealed class ContractDatabase : IAsyncDisposable
{
    private readonly StorageBackend _backend;
    private readonly List<Replica> _replicas = [];

    private ContractDatabase(StorageBackend backend, string directory, string connectionString)
    {
        _backend = backend;
        Directory = directory;
        ConnectionString = connectionString;
    }

    public string Directory { get; }

    public string ConnectionString { get; }

    public byte[] MasterKey { get; } = RandomNumberGenerator.GetBytes(Xares.Broker.Vault.MasterKey.Size);

    public static async Task<ContractDatabase> CreateAsync(StorageBackend backend, bool migrate = true)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory($"xares-contract-{backend.Name}-").FullName;
        var database = new ContractDatabase(backend, directory, await backend.CreateAsync(directory));
        if (migrate)
        {
            using var handle = new Database(database.ConnectionString);
            new Migrator(handle).Migrate();
        }
        return database;
    }

    public Replica AddReplica()
    {
        var replica = new Replica(ConnectionString, MasterKey);
        _replicas.Add(replica);
        return replica;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await _backend.DropAsync(ConnectionString);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    internal sealed class Replica : IAsyncDisposable
    {
        public Replica(string connectionString, byte[] masterKey)
        {
            Database = new Database(connectionString);
            Keyring = Keyring.LoadOrCreate(Database, Xares.Broker.Vault.MasterKey.FromBytes(masterKey, "test"), TimeProvider.System);
            Audit = new AuditChain(Keyring, TimeProvider.System);
            Signal = new RevocationSignal();
            Revocations = new RevocationLog(Signal, TimeProvider.System);
            Writes = new WriteQueue(Database, Signal.PulseIfPending);
        }

        public Database Database { get; }
        public Keyring Keyring { get; }
        public AuditChain Audit { get; }
        public RevocationSignal Signal { get; }
        public RevocationLog Revocations { get; }
        public WriteQueue Writes { get; }

        public AuditVerification Verify()
        {
            using var connection = Database.Open();
            return Audit.Verify(connection);
        }

        public async ValueTask DisposeAsync()
        {
            await Writes.DisposeAsync();
            Database.Dispose();
        }
    }
}
