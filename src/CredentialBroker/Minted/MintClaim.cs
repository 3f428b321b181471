using System.Data.Common;
using Xares.Broker.Storage;

namespace Xares.Broker.Minted;

/// <summary>
/// A short claim on one mint scope in mint_claims, so replicas sharing a database mint one token
/// per scope: the holder calls GitHub, the others wait for the token it stores. An expired claim
/// (its holder died) is taken over; one upsert, portable to SQLite and PostgreSQL.
/// </summary>
internal static class MintClaim
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan WaitForOther = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <param name="holder">Who claims: one value per broker (each <see cref="MintedGitSource"/>).</param>
    public static Task<bool> TryTakeAsync(WriteQueue writes, string key, string holder, TimeProvider time) =>
        writes.ExecuteAsync((c, t) =>
        {
            var now = time.GetUtcNow();
            return Sql.Execute(c, t,
                """
                INSERT INTO mint_claims (claim_key, holder, expires_at) VALUES (@key, @holder, @expires)
                ON CONFLICT (claim_key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE mint_claims.expires_at <= @now
                """,
                ("@key", key), ("@holder", holder), ("@expires", (now + Lifetime).ToDb()), ("@now", now.ToDb())) == 1;
        });

    public static Task ReleaseAsync(WriteQueue writes, string key, string holder) =>
        writes.ExecuteAsync((c, t) => Release(c, t, key, holder));

    /// <summary>Releases the claim inside a write unit already under way (the one that stores the minted token).</summary>
    public static void Release(DbConnection connection, DbTransaction transaction, string key, string holder) =>
        Sql.Execute(connection, transaction, "DELETE FROM mint_claims WHERE claim_key = @key AND holder = @holder", ("@key", key), ("@holder", holder));
}
