namespace Xares.Sidecar.Broker;

/// <summary>Exponential backoff with equal jitter, so a fleet of sidecars does not reconnect in lockstep.</summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan maximum)
{
    private int _attempt;

    public TimeSpan Next()
    {
        var exponent = Math.Min(_attempt++, 20);
        var ceiling = Math.Min(maximum.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(ceiling / 2 + (Random.Shared.NextDouble() * ceiling / 2));
    }

    public void Reset() => _attempt = 0;
}
