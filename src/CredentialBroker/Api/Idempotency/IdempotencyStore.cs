using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Api.Idempotency;

/// <summary>What the first request with a key left behind, once it succeeded.</summary>
internal sealed record StoredAnswer(int StatusCode, string? Location, string? ContentType, DateTimeOffset? ReplayUntil, SealedSecret? Body);

internal enum IdempotencyOutcome
{
    /// <summary>This request holds the key now: run it, then store or release its answer.</summary>
    Reserved,
    Replay,
    Mismatch,
    InUse,
    ReplayExpired,
}

/// <summary>
/// SQL of idempotency_keys. <see cref="Begin"/> runs in one write unit, and write units of all
/// replicas take turns, so of two requests racing the same key exactly one reserves it.
/// </summary>
internal static class IdempotencyStore
{
    public static (IdempotencyOutcome Outcome, StoredAnswer? Answer) Begin(DbConnection c, DbTransaction t, string callerKeyId, string key, byte[] requestHash,
        DateTimeOffset now, TimeSpan retention, TimeSpan inFlightLock)
    {
        var row = Sql.Single(c, t, """
            SELECT request_hash, expires_at, locked_until, status_code, location, content_type, replay_until, kek_version, wrapped_dek, ciphertext
            FROM idempotency_keys WHERE caller_key_id = @c AND idempotency_key = @k
            """, r => new KeyRow(
                (byte[])r.GetValue(0), r.Time(1), r.NullableTime(2),
                r.IsDBNull(3) ? null : new StoredAnswer(Convert.ToInt32(r.GetValue(3), CultureInfo.InvariantCulture),
                    r.NullableString(4), r.NullableString(5), r.NullableTime(6),
                    r.IsDBNull(9) ? null : new SealedSecret(Convert.ToInt32(r.GetValue(7), CultureInfo.InvariantCulture), (byte[])r.GetValue(8), (byte[])r.GetValue(9)))),
            ("@c", callerKeyId), ("@k", key));
        if (row is null || row.ExpiresAt <= now)
        {
            Sql.Execute(c, t, "DELETE FROM idempotency_keys WHERE caller_key_id = @c AND idempotency_key = @k", ("@c", callerKeyId), ("@k", key));
            Sql.Execute(c, t, """
                INSERT INTO idempotency_keys (caller_key_id, idempotency_key, request_hash, created_at, expires_at, locked_until)
                VALUES (@c, @k, @h, @now, @exp, @lock)
                """, ("@c", callerKeyId), ("@k", key), ("@h", requestHash), ("@now", now.ToDb()), ("@exp", (now + retention).ToDb()), ("@lock", (now + inFlightLock).ToDb()));
            return (IdempotencyOutcome.Reserved, null);
        }
        if (!CryptographicOperations.FixedTimeEquals(row.Hash, requestHash))
        {
            return (IdempotencyOutcome.Mismatch, null);
        }
        if (row.Answer is null)
        {
            if (row.LockedUntil > now)
            {
                return (IdempotencyOutcome.InUse, null);
            }
            // The process that held it died before answering: this retry takes the key over.
            Sql.Execute(c, t, "UPDATE idempotency_keys SET locked_until = @lock WHERE caller_key_id = @c AND idempotency_key = @k",
                ("@c", callerKeyId), ("@k", key), ("@lock", (now + inFlightLock).ToDb()));
            return (IdempotencyOutcome.Reserved, null);
        }
        return row.Answer.Body is null || row.Answer.ReplayUntil <= now
            ? (IdempotencyOutcome.ReplayExpired, null)
            : (IdempotencyOutcome.Replay, row.Answer);
    }

    public static void Complete(DbConnection c, DbTransaction t, string callerKeyId, string key, StoredAnswer answer) =>
        Sql.Execute(c, t, """
            UPDATE idempotency_keys SET locked_until = NULL, status_code = @s, location = @l, content_type = @ct, replay_until = @r,
                kek_version = @kv, wrapped_dek = @w, ciphertext = @body
            WHERE caller_key_id = @c AND idempotency_key = @k
            """, ("@c", callerKeyId), ("@k", key), ("@s", answer.StatusCode), ("@l", answer.Location), ("@ct", answer.ContentType),
            ("@r", answer.ReplayUntil.ToDb()), ("@kv", answer.Body?.KekVersion), ("@w", answer.Body?.WrappedDataKey), ("@body", answer.Body?.Ciphertext));

    /// <summary>The request failed: the key is free again, so a corrected retry may use it.</summary>
    public static void Release(DbConnection c, DbTransaction t, string callerKeyId, string key) =>
        Sql.Execute(c, t, "DELETE FROM idempotency_keys WHERE caller_key_id = @c AND idempotency_key = @k AND status_code IS NULL",
            ("@c", callerKeyId), ("@k", key));

    public static int DeleteExpiredBefore(DbConnection c, DbTransaction t, DateTimeOffset now, int limit) =>
        Sql.Execute(c, t, """
            DELETE FROM idempotency_keys WHERE (caller_key_id, idempotency_key) IN
                (SELECT caller_key_id, idempotency_key FROM idempotency_keys WHERE expires_at <= @now LIMIT @n)
            """, ("@now", now.ToDb()), ("@n", limit));

    /// <summary>One-time secrets past their replay window: the sealed answer goes, the row stays to answer 410.</summary>
    public static int EraseEndedReplays(DbConnection c, DbTransaction t, DateTimeOffset now) =>
        Sql.Execute(c, t, """
            UPDATE idempotency_keys SET kek_version = NULL, wrapped_dek = NULL, ciphertext = NULL
            WHERE replay_until <= @now AND ciphertext IS NOT NULL
            """, ("@now", now.ToDb()));

    private sealed record KeyRow(byte[] Hash, DateTimeOffset ExpiresAt, DateTimeOffset? LockedUntil, StoredAnswer? Answer);
}
