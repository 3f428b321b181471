using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Storage;

/// <summary>A migrated SQLite file in a temp directory with a keyring, an audit chain and a write queue, without the web host.</summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string directory, byte[] masterKey)
    {
        Directory = directory;
        MasterKeyBytes = masterKey;
        Path = System.IO.Path.Combine(directory, "xares.db");
        Database = new Database($"Data Source={Path}");
        new Migrator(Database).Migrate();
        Keyring = Keyring.LoadOrCreate(Database, MasterKey.FromBytes(masterKey, "test"), TimeProvider.System);
        Audit = new AuditChain(Keyring, TimeProvider.System);
        Writes = new WriteQueue(Database, () => { });
    }

    public string Directory { get; }
    public string Path { get; }
    public byte[] MasterKeyBytes { get; }
    public Database Database { get; }
    public Keyring Keyring { get; }
    public AuditChain Audit { get; }
    public WriteQueue Writes { get; }

    public static TestDatabase Create() =>
        new(System.IO.Directory.CreateTempSubdirectory("xares-db-test-").FullName, RandomNumberGenerator.GetBytes(MasterKey.Size));

    /// <summary>A separate raw connection, as someone editing the database file would use.</summary>
    public SqliteConnection OpenRaw()
    {
        var connection = new SqliteConnection($"Data Source={Path};Pooling=False");
        connection.Open();
        return connection;
    }

    public void ExecuteRaw(string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = OpenRaw();
        Sql.Execute(connection, null, sql, parameters);
    }

    public async ValueTask DisposeAsync()
    {
        await Writes.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp dir left behind is harmless.
        }
    }
}
