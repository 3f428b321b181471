using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using Xares.Broker.Storage;

namespace Xares.Broker.Vault;

/// <summary>
/// One key operation (`keys rotate`, `rekey`, `prune`) at a time across processes and replicas:
/// a row in leader_leases naming its holder, renewed by a heartbeat while the operation runs. A
/// crashed holder stops renewing, and its lock can be taken over once it is <see cref="Lifetime"/> stale.
/// </summary>
internal sealed class KeyMaintenanceLock : IDisposable
{
    public const string Name = "key-maintenance";
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);

    private readonly Database _database;
    private readonly TimeProvider _time;
    private readonly string _holder;
    private readonly ITimer _heartbeat;
    private long _renewedAtTicks;
    private volatile bool _lost;

    private KeyMaintenanceLock(Database database, TimeProvider time, string holder)
    {
        _database = database;
        _time = time;
        _holder = holder;
        _renewedAtTicks = time.GetTimestamp();
        _heartbeat = time.CreateTimer(_ => Renew(), null, Heartbeat, Heartbeat);
    }

    public string Holder => _holder;

    /// <exception cref="KeyMaintenanceBusyException">Another live operation holds the lock.</exception>
    public static KeyMaintenanceLock Acquire(Database database, string operation, TimeProvider time)
    {
        var now = time.GetUtcNow();
        // Readable for the operator who is refused; the random tail keeps two holders apart.
        var holder = string.Create(CultureInfo.InvariantCulture,
            $"{operation} (pid {Environment.ProcessId} on {Environment.MachineName}, started {now:yyyy-MM-ddTHH:mm:ssZ}) #{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction();
        var taken = Sql.Execute(connection, transaction,
            """
            INSERT INTO leader_leases (name, holder, expires_at) VALUES (@name, @holder, @expires)
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
            WHERE leader_leases.expires_at <= @now
            """,
            ("@name", Name), ("@holder", holder), ("@expires", (now + Lifetime).ToDb()), ("@now", now.ToDb())) == 1;
        if (!taken)
        {
            var current = CurrentHolder(connection, transaction, now);
            transaction.Rollback();
            throw new KeyMaintenanceBusyException(current ?? "another key operation");
        }
        transaction.Commit();
        return new KeyMaintenanceLock(database, time, holder);
    }

    /// <summary>Who holds the lock now and for how long it stays valid without a heartbeat; null when nobody does.</summary>
    public static string? CurrentHolder(DbConnection connection, DbTransaction? transaction, DateTimeOffset now) =>
        Sql.Single(connection, transaction, "SELECT holder, expires_at FROM leader_leases WHERE name = @name", r =>
            new Tuple<string, long>(r.GetString(0), Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture)), ("@name", Name)) is { } row
            && row.Item2 > now.ToDb()
            ? string.Create(CultureInfo.InvariantCulture, $"{row.Item1[..row.Item1.LastIndexOf(" #", StringComparison.Ordinal)]}, lock valid for {(row.Item2 - now.ToDb() + 999) / 1000} s more without a heartbeat")
            : null;

    /// <summary>Stops the operation if its lock lapsed (heartbeats failed long enough for another holder to take over).</summary>
    /// <exception cref="InvalidOperationException">The lock was lost.</exception>
    public void ThrowIfLost()
    {
        // Stops a heartbeat early: well before the lock could be taken over, not after.
        if (_lost || _time.GetElapsedTime(Interlocked.Read(ref _renewedAtTicks)) >= Lifetime - Heartbeat)
        {
            throw new InvalidOperationException("The key maintenance lock was lost (its heartbeat could not be written in time); stopped. Run the command again to resume.");
        }
    }

    private void Renew()
    {
        try
        {
            var now = _time.GetUtcNow();
            var renewed = _database.ReadAsync(c => Sql.Execute(c, null,
                "UPDATE leader_leases SET expires_at = @expires WHERE name = @name AND holder = @holder",
                ("@expires", (now + Lifetime).ToDb()), ("@name", Name), ("@holder", _holder))).GetAwaiter().GetResult();
            if (renewed == 1)
            {
                Interlocked.Exchange(ref _renewedAtTicks, _time.GetTimestamp());
            }
            else
            {
                _lost = true;
            }
        }
        catch (DbException)
        {
            // A busy or briefly unreachable database: the next heartbeat retries; ThrowIfLost notices a lapse.
        }
    }

    public void Dispose()
    {
        _heartbeat.Dispose();
        try
        {
            _database.ReadAsync(c => Sql.Execute(c, null, "DELETE FROM leader_leases WHERE name = @name AND holder = @holder", ("@name", Name), ("@holder", _holder)))
                .GetAwaiter().GetResult();
        }
        catch (DbException)
        {
            // Left to expire: the next operation takes it over after Lifetime.
        }
    }
}

/// <summary>Another key operation holds <see cref="KeyMaintenanceLock"/>.</summary>
internal sealed class KeyMaintenanceBusyException(string holder)
    : InvalidOperationException($"Another key operation is running: {holder}. Only one of keys rotate, rekey and prune runs at a time; a crashed one's lock is taken over {KeyMaintenanceLock.Lifetime.TotalSeconds:0} s after its last heartbeat.")
{
    public string CurrentHolder => holder;
}
