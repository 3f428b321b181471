using Xares.Broker.Hosting;

namespace Xares.Broker.Storage;

/// <summary>
/// "Exactly one replica runs this job": a row in leader_leases that its holder renews before it
/// expires and any replica may take over after. One upsert, portable to SQLite and PostgreSQL
/// (ON CONFLICT … DO UPDATE … WHERE). The holder is named by host and gRPC listener, so a broker
/// restarted in place takes its lease back at once instead of waiting for it to expire.
/// </summary>
internal sealed class LeaderLease(WriteQueue writes, TimeProvider time, string name, string holder, TimeSpan lifetime)
{
    /// <summary>This broker's lease on <paramref name="name"/>, held as its host and gRPC listener.</summary>
    public static LeaderLease For(IServiceProvider services, string name, TimeSpan lifetime) =>
        new(services.GetRequiredService<WriteQueue>(), services.GetRequiredService<TimeProvider>(), name,
            $"{Environment.MachineName} {services.GetRequiredService<BrokerOptions>().GrpcUrl}", lifetime);

    public string Name => name;

    public string Holder => holder;

    public TimeSpan Lifetime => lifetime;

    /// <summary>Takes or renews the lease; false while another holder's lease is unexpired.</summary>
    public Task<bool> TryAcquireAsync() =>
        writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            return Sql.Execute(c, t,
                """
                INSERT INTO leader_leases (name, holder, expires_at) VALUES (@name, @holder, @expires)
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE leader_leases.holder = excluded.holder OR leader_leases.expires_at <= @now
                """,
                ("@name", name), ("@holder", holder), ("@expires", (now + lifetime).ToDb()), ("@now", now.ToDb())) == 1;
        });

    /// <summary>Gives the lease up (on shutdown) so another replica need not wait for it to expire.</summary>
    public Task ReleaseAsync() =>
        writes.ExecuteAsync((c, t) =>
        {
            Sql.Execute(c, t, "DELETE FROM leader_leases WHERE name = @name AND holder = @holder", ("@name", name), ("@holder", holder));
        });
}
