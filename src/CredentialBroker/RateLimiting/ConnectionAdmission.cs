using System.Threading.RateLimiting;
using Xares.Broker.Hosting;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.RateLimiting;

/// <summary>
/// Load shedding for the calls a reconnect storm is made of: after a broker restart every sidecar
/// opens its revocation stream and revalidates its cached leases at once, and freshly started
/// workspaces open sessions. Past a limit on such setups in flight (<c>--connect-concurrency</c>)
/// or a broker-wide rate of new connections (<c>--connect-rate</c> session and stream opens per
/// second, bursts of one second's worth), an attempt is refused before any work with a retryable
/// status and a retry hint, so the broker keeps serving the sidecars already connected instead of
/// falling over. A revalidation is only held to the concurrency limit: it follows a stream the
/// rate already admitted, and shedding it would throw that stream's work away. Lease fills,
/// refreshes and everything else are never shed here: a refused refresh would leave its sidecar
/// unable to present its token until a retry settled it.
/// </summary>
internal sealed partial class ConnectionAdmission : IDisposable
{
    /// <summary>The least a shed sidecar is told to wait; it adds its own jitter on top.</summary>
    public static readonly TimeSpan RetryHint = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private const string ValidateLeases = "validate_leases";

    private static readonly Dictionary<string, string> GovernedCalls = new[]
    {
        (nameof(SidecarBroker.SidecarBrokerBase.OpenSession), "open_session"),
        (nameof(SidecarBroker.SidecarBrokerBase.WatchRevocations), "watch_revocations"),
        (nameof(SidecarBroker.SidecarBrokerBase.ValidateLeases), ValidateLeases),
    }.ToDictionary(c => $"/{SidecarBroker.Descriptor.FullName}/{c.Item1}", c => c.Item2, StringComparer.Ordinal);

    private readonly ConcurrencyLimiter _inFlight;
    private readonly TokenBucketRateLimiter? _rate;
    private readonly TimeProvider _time;
    private readonly ILogger<ConnectionAdmission> _logger;
    private long _shedSinceLog;
    private long _nextLogAt;

    public ConnectionAdmission(BrokerOptions options, TimeProvider time, ILogger<ConnectionAdmission> logger)
    {
        _time = time;
        _logger = logger;
        _inFlight = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = options.ConnectConcurrency, QueueLimit = 0 });
        if (options.ConnectRate > 0)
        {
            // Refill in steps of about a tenth of a second, so admissions are spread, not bunched at each second.
            var tokensPerPeriod = Math.Max(1, options.ConnectRate / 10);
            _rate = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = options.ConnectRate,
                TokensPerPeriod = tokensPerPeriod,
                ReplenishmentPeriod = TimeSpan.FromSeconds((double)tokensPerPeriod / options.ConnectRate),
                QueueLimit = 0,
            });
        }
        Describe = $"{options.ConnectConcurrency} in flight, " + (_rate is null ? "no rate limit" : $"{options.ConnectRate}/s");
    }

    /// <summary>The limits in words, for logs.</summary>
    public string Describe { get; }

    /// <summary>The metric label of a governed call, or null for a call this never sheds.</summary>
    public static string? CallLabel(string method) => GovernedCalls.GetValueOrDefault(method);

    /// <summary>A permit to dispose when the setup is done, or null with how long the caller should stay away.</summary>
    public IDisposable? TryAdmit(string call, out TimeSpan retryAfter)
    {
        retryAfter = RetryHint;
        var slot = _inFlight.AttemptAcquire();
        if (!slot.IsAcquired)
        {
            slot.Dispose();
            Shed(call, "concurrency");
            return null;
        }
        if (_rate is not null && call != ValidateLeases)
        {
            // Taken after the slot: a token spent on an attempt then refused a slot would be lost.
            using var token = _rate.AttemptAcquire();
            if (!token.IsAcquired)
            {
                slot.Dispose();
                if (token.TryGetMetadata(MetadataName.RetryAfter, out var refill) && refill > retryAfter)
                {
                    retryAfter = refill;
                }
                Shed(call, "rate");
                return null;
            }
        }
        return new Permit(slot);
    }

    public void Dispose()
    {
        _inFlight.Dispose();
        _rate?.Dispose();
    }

    private void Shed(string call, string reason)
    {
        BrokerMetrics.ConnectionsShed.WithLabels(call, reason).Inc();
        Interlocked.Increment(ref _shedSinceLog);
        // One line per interval however hard the storm blows: the metric has the exact count.
        var now = _time.GetTimestamp();
        var due = Interlocked.Read(ref _nextLogAt);
        if (now >= due && Interlocked.CompareExchange(ref _nextLogAt, now + (long)(LogInterval.TotalSeconds * _time.TimestampFrequency), due) == due)
        {
            LogShedding(_logger, Interlocked.Exchange(ref _shedSinceLog, 0), Describe, (int)LogInterval.TotalSeconds);
        }
    }

    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning,
        Message = "Shed {Shed} sidecar connection attempts (limits: {Limits}); they were told to retry later. Next report in {Seconds} s at the earliest")]
    private static partial void LogShedding(ILogger logger, long shed, string limits, int seconds);

    /// <summary>Releases its slot once, whoever disposes it first (a stream's first response, or the call's end).</summary>
    private sealed class Permit(RateLimitLease slot) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slot.Dispose();
            }
        }
    }
}
