using System.Threading.RateLimiting;
using Microsoft.Extensions.Caching.Memory;
using Xares.Broker.Hosting;
using Xares.Broker.Security;

namespace Xares.Broker.RateLimiting;

/// <summary>
/// A token bucket per sidecar session, so one workspace cannot starve the others of the broker
/// or of the audit commit queue. The bucket follows the session across token refreshes: session
/// ids are learned from the grants this broker hands out (a token from before a restart or from
/// another replica has its own bucket until its next refresh). Calls without a session token
/// share a bucket per client address. The partitioned limiter drops buckets idle for a while.
/// </summary>
internal sealed class SessionCallLimiter : IDisposable
{
    // Token hash → session id; bounded, and entries leave when their token expires.
    private readonly MemoryCache _sessions = new(new MemoryCacheOptions { SizeLimit = 200_000 });
    private readonly PartitionedRateLimiter<string> _buckets;
    private readonly bool _enabled;

    public SessionCallLimiter(BrokerOptions options)
    {
        _enabled = options.SessionRate > 0;
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
    public RateLimitLease Acquire(string? sessionToken, string clientAddress) =>
        _enabled ? _buckets.AttemptAcquire(Partition(sessionToken, clientAddress)) : _buckets.AttemptAcquire("off");

    /// <summary>Remembers which session a freshly granted token belongs to.</summary>
    public void Learn(string sessionToken, string sessionId, DateTimeOffset tokenExpiresAt)
    {
        if (_enabled)
        {
            _sessions.Set(HashKey(sessionToken), sessionId, new MemoryCacheEntryOptions { AbsoluteExpiration = tokenExpiresAt, Size = 1 });
        }
    }

    internal string Partition(string? sessionToken, string clientAddress)
    {
        if (!OpaqueToken.HasShape(sessionToken, OpaqueToken.SessionPrefix))
        {
            return "peer " + clientAddress;
        }
        var hash = HashKey(sessionToken!);
        return _sessions.TryGetValue(hash, out string? sessionId) ? "session " + sessionId : "token " + hash;
    }

    public void Dispose()
    {
        _buckets.Dispose();
        _sessions.Dispose();
    }

    // Raw tokens are never kept in memory longer than the call.
    private static string HashKey(string token) => Convert.ToHexString(OpaqueToken.Hash(token));
}
