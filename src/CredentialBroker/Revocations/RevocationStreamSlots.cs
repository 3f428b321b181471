namespace Xares.Broker.Revocations;

/// <summary>
/// How many revocation streams one session may hold open on this broker process at once. Each
/// stream costs a catch-up read when it opens and a queue and index entries while it is open, so an
/// unbounded number per session would let one workspace multiply them; a sidecar needs one, plus a
/// little slack for a reconnect that overlaps the stream it replaces.
/// </summary>
internal sealed class RevocationStreamSlots
{
    public const int PerSession = 3;

    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>A slot to dispose when the stream ends, or null when the session already holds <see cref="PerSession"/>.</summary>
    public IDisposable? TryTake(string sessionId)
    {
        lock (_lock)
        {
            var open = _open.GetValueOrDefault(sessionId);
            if (open >= PerSession)
            {
                return null;
            }
            _open[sessionId] = open + 1;
        }
        return new Slot(this, sessionId);
    }

    /// <summary>Streams the session holds open now.</summary>
    public int OpenFor(string sessionId)
    {
        lock (_lock)
        {
            return _open.GetValueOrDefault(sessionId);
        }
    }

    private void Release(string sessionId)
    {
        lock (_lock)
        {
            // Sessions with no stream leave the map, so it holds only live streams.
            if (_open.TryGetValue(sessionId, out var open) && open > 1)
            {
                _open[sessionId] = open - 1;
            }
            else
            {
                _open.Remove(sessionId);
            }
        }
    }

    private sealed class Slot(RevocationStreamSlots slots, string sessionId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release(sessionId);
            }
        }
    }
}
