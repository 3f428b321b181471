using System.Threading.RateLimiting;
using Xares.Broker.Hosting;
using Xares.Broker.Security;

namespace Xares.Broker.RateLimiting;

/// <summary>
/// Counts failed REST authentications in two fixed windows, per (presented key prefix, client
/// address) and per client address (an IPv6 address counts as its /64, <see cref="ClientPartition"/>). Only failures spend permits, so a client with a good key is
/// never slowed; once either window is spent, that client's next attempts are refused before the
/// key is even looked up. Partitions are per client, so one attacker cannot lock out others.
/// </summary>
internal sealed partial class AuthFailureThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _perKey;
    private readonly PartitionedRateLimiter<string> _perAddress;
    private readonly ILogger<AuthFailureThrottle> _logger;

    public AuthFailureThrottle(BrokerOptions options, ILogger<AuthFailureThrottle> logger)
    {
        _logger = logger;
        _perKey = Create(options.AuthFailureLimit, options.AuthFailureWindow);
        _perAddress = Create(options.AuthFailureAddressLimit, options.AuthFailureWindow);
    }

    /// <summary>Null when the client may try; else how long it should wait.</summary>
    public TimeSpan? Refusal(string clientAddress, string? presentedToken)
    {
        // Zero permits asks "is anything left?" without spending any.
        using var byAddress = _perAddress.AttemptAcquire(clientAddress, 0);
        using var byKey = _perKey.AttemptAcquire(KeyPartition(clientAddress, presentedToken), 0);
        if (byAddress.IsAcquired && byKey.IsAcquired)
        {
            return null;
        }
        var refused = byAddress.IsAcquired ? byKey : byAddress;
        return refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(60);
    }

    public void RecordFailure(string clientAddress, string? presentedToken)
    {
        var keyPartition = KeyPartition(clientAddress, presentedToken);
        using var byAddress = _perAddress.AttemptAcquire(clientAddress);
        using var byKey = _perKey.AttemptAcquire(keyPartition);
        // Logged once, when this failure spent the last permit, not for every refused attempt.
        if (byAddress.IsAcquired && _perAddress.GetStatistics(clientAddress)?.CurrentAvailablePermits == 0)
        {
            LogThrottled(_logger, clientAddress, "address");
        }
        else if (byKey.IsAcquired && _perKey.GetStatistics(keyPartition)?.CurrentAvailablePermits == 0)
        {
            LogThrottled(_logger, clientAddress, "key");
        }
    }

    public void Dispose()
    {
        _perKey.Dispose();
        _perAddress.Dispose();
    }

    /// <summary>The key's public prefix (`xar_` and four characters, as listed by the API) — never more of the secret.</summary>
    internal static string KeyPartition(string clientAddress, string? presentedToken) =>
        OpaqueToken.HasShape(presentedToken, OpaqueToken.ApiKeyPrefix) ? $"{clientAddress} {presentedToken![..8]}" : $"{clientAddress} -";

    private static PartitionedRateLimiter<string> Create(int permits, TimeSpan window) =>
        PartitionedRateLimiter.Create<string, string>(partition => RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = window,
            QueueLimit = 0,
        }));

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Too many failed authentications from {RemoteAddress} (per {Partition}); refusing its attempts until the window ends")]
    private static partial void LogThrottled(ILogger logger, string remoteAddress, string partition);
}
