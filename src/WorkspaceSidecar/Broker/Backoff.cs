namespace Xares.Sidecar.Broker;

/// <summary>
/// Capped exponential backoff with full jitter: attempt n waits a uniform draw from
/// [floor, min(cap, initial·2^n)]. Full jitter spreads a fleet that lost the same broker at the
/// same moment over the whole window instead of bunching it at the window's upper half (equal
/// jitter), so a restarted broker meets a trickle of reconnects, not waves; the floor keeps a
/// broken broker from being hammered by draws near zero.
/// </summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan maximum, TimeSpan floor, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;
    private int _attempt;

    public Backoff(TimeSpan initial, TimeSpan maximum)
        : this(initial, maximum, initial)
    {
    }

    /// <summary>The upper end of the window for the next attempt.</summary>
    public TimeSpan Ceiling => Window(_attempt);

    public TimeSpan Next()
    {
        var ceiling = Window(_attempt);
        _attempt = Math.Min(_attempt + 1, 30);
        var low = floor.TotalMilliseconds;
        var high = Math.Max(low, ceiling.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(low + (_random.NextDouble() * (high - low)));
    }

    /// <summary>
    /// The wait after an attempt the broker refused with a retry hint (it shed the call under
    /// load): at least the hint, plus the jittered backoff so the shed fleet does not come back
    /// all at once when the hint runs out.
    /// </summary>
    public TimeSpan Next(TimeSpan? retryHint) => retryHint is { } hint && hint > TimeSpan.Zero ? hint + Next() : Next();

    public void Reset() => _attempt = 0;

    private TimeSpan Window(int attempt)
    {
        var exponent = Math.Min(attempt, 30);
        return TimeSpan.FromMilliseconds(Math.Min(maximum.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, exponent)));
    }
}
