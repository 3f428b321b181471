using System.Threading.RateLimiting;
using Microsoft.Extensions.Caching.Memory;
using Xares.Broker.Hosting;
using Xares.Broker.Security;

namespace Xares.Broker.RateLimiting;

/// <summary>
/// A token bucket per authenticated sidecar session, so one workspace cannot starve the others of
/// the broker or of the audit commit queue. Only a token this broker has seen verified gets a
/// bucket of its own: one it granted (the bucket follows the session across refreshes), or one the
/// database confirmed on an earlier call. Every other call (no token, a made-up, expired or not
/// yet verified one) is charged to the caller's address bucket (<see cref="ClientPartition"/>)
/// before anything looks the token up, so inventing tokens buys no capacity. A genuine token from
/// before a restart or from another replica is charged to its address until its first call
/// succeeds. The partitioned limiter drops buckets idle for a while.
/// </summary>
internal sealed class SessionCallLimiter : IDisposable
{
    // Token hash → bucket name; bounded, only verified tokens enter, and they leave when they expire.
    private readonly MemoryCache _verified = new(new MemoryCacheOptions { SizeLimit = 200_000 });
    private readonly PartitionedRateLimiter<string> _buckets;
    private readonly bool _enabled;
    private readonly TimeSpan _longestTokenLifetime;

    public SessionCallLimiter(BrokerOptions options)
    {
        _enabled = options.SessionRate > 0;
        _longestTokenLifetime = options.SessionTokenLifetime;
        if (!_enabled)
        {
            _buckets = PartitionedRateLimiter.Create<string, string>(_ => RateLimitPartition.GetNoLimiter("off"));
            return;
        }
        // Refill in steps of about a tenth of a second, so the rate is smooth and exact.
        var tokensPerPeriod = Math.Max(1, options.SessionRate / 10);
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, options.SessionBurst),
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds((double)tokensPerPeriod / options.SessionRate),
            QueueLimit = 0,
        };
        _buckets = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => bucket));
        Describe = $"{options.SessionRate} calls/s, burst {bucket.TokenLimit}";
    }

    /// <summary>The limit in words, for refusals.</summary>
    public string Describe { get; } = "off";

    /// <summary>A lease that is acquired, or refused with how long to wait.</summary>
    public RateLimitLease Acquire(string? sessionToken, string clientPartition) =>
        _enabled ? _buckets.AttemptAcquire(Partition(sessionToken, clientPartition)) : _buckets.AttemptAcquire("off");

    /// <summary>Remembers which session a token belongs to: one this broker granted, or one the database just verified.</summary>
    public void Learn(string? sessionToken, string sessionId, DateTimeOffset tokenExpiresAt) =>
        Remember(sessionToken, "session " + sessionId, tokenExpiresAt);

    /// <summary>
    /// A token the database just verified for a call that does not say until when it is valid (a
    /// lease request): its session's bucket when the call named the session, else one of its own
    /// until its refresh; remembered no longer than a token can live.
    /// </summary>
    public void LearnVerified(string? sessionToken, string? sessionId, DateTimeOffset now)
    {
        if (_enabled && OpaqueToken.HasShape(sessionToken, OpaqueToken.SessionPrefix) && !_verified.TryGetValue(HashKey(sessionToken!), out _))
        {
            Remember(sessionToken, sessionId is null ? "token " + HashKey(sessionToken!) : "session " + sessionId, now + _longestTokenLifetime);
        }
    }

    internal string Partition(string? sessionToken, string clientPartition) =>
        OpaqueToken.HasShape(sessionToken, OpaqueToken.SessionPrefix) && _verified.TryGetValue(HashKey(sessionToken!), out string? bucket)
            ? bucket!
            : "peer " + clientPartition;

    public void Dispose()
    {
        _buckets.Dispose();
        _verified.Dispose();
    }

    private void Remember(string? sessionToken, string bucket, DateTimeOffset expiresAt)
    {
        if (_enabled && OpaqueToken.HasShape(sessionToken, OpaqueToken.SessionPrefix))
        {
            _verified.Set(HashKey(sessionToken!), bucket, new MemoryCacheEntryOptions { AbsoluteExpiration = expiresAt, Size = 1 });
        }
    }

    // Raw tokens are never kept in memory longer than the call.
    private static string HashKey(string token) => Convert.ToHexString(OpaqueToken.Hash(token));
}
