using Xares.DevKit;

namespace Xares.Broker.Tests.Storage;

/// <summary>Where a storage contract test keeps its data: a fresh SQLite file or a fresh PostgreSQL database.</summary>
public abstract class StorageBackend
{
    public abstract string Name { get; }

    /// <summary>A connection string for a new, empty database (under <paramref name="directory"/> for SQLite).</summary>
    internal abstract Task<string> CreateAsync(string directory);

    internal abstract Task DropAsync(string connectionString);

    public override string ToString() => Name;
}

internal sealed class SqliteBackend : StorageBackend
{
    public override string Name => "sqlite";

    internal override Task<string> CreateAsync(string directory) => Task.FromResult($"Data Source={Path.Combine(directory, "xares.db")}");

    internal override Task DropAsync(string connectionString) => Task.CompletedTask;
}

internal sealed class PostgresBackend : StorageBackend
{
    public override string Name => "postgres";

    internal override Task<string> CreateAsync(string directory) => PostgresServer.CreateDatabaseAsync();

    internal override Task DropAsync(string connectionString) => PostgresServer.DropDatabaseAsync(connectionString);
}
