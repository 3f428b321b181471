using System.Security.Cryptography;
using System.Text;

namespace Xares.Sidecar.Leases;

internal enum Admission
{
    /// <summary>Cached and may be served.</summary>
    Cached,
    /// <summary>May be served once but is too short-lived (or the cache too full) to keep.</summary>
    ServeOnce,
    /// <summary>A revocation that covers it arrived while it was being fetched: do not serve.</summary>
    Refused,
}

/// <summary>
/// In-memory lease cache. Revocations bump a revision so that a lease fetched while a
/// revocation arrived is never cached after the revocation was applied.
/// </summary>
internal sealed class LeaseCache(TimeProvider time)
{
    private const int Capacity = 4096;
    private static readonly TimeSpan TombstoneLifetime = TimeSpan.FromMinutes(10);

    private readonly Lock _lock = new();
    private readonly Dictionary<LeaseKey, CachedLease> _entries = [];
    private readonly Dictionary<string, (long Revision, DateTimeOffset At)> _revokedLeases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Revision, DateTimeOffset At)> _revokedCredentials = new(StringComparer.Ordinal);
    private long _revision;
    private long _clearedAt;

    /// <summary>Take this before asking the broker and hand it to <see cref="Admit"/>.</summary>
    public long Revision { get { lock (_lock) { return _revision; } } }

    /// <summary>Distinct leases held (an AI lease asked for without a credential id is also kept under its credential's id).</summary>
    public int Count { get { lock (_lock) { return _entries.Values.Select(l => l.LeaseId).Distinct(StringComparer.Ordinal).Count(); } } }

    public CachedLease? Find(LeaseKey key)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var lease))
            {
                return null;
            }
            if (time.GetUtcNow() < lease.ServeUntil)
            {
                return lease;
            }
            _entries.Remove(key);
            return null;
        }
    }

    public Admission Admit(LeaseKey key, CachedLease lease, long fetchedAtRevision)
    {
        lock (_lock)
        {
            if (_clearedAt > fetchedAtRevision ||
                _revokedLeases.ContainsKey(lease.LeaseId) ||
                (_revokedCredentials.TryGetValue(lease.CredentialId, out var revoked) && revoked.Revision > fetchedAtRevision))
            {
                return Admission.Refused;
            }
            var now = time.GetUtcNow();
            if (now >= lease.ServeUntil)
            {
                return Admission.ServeOnce;
            }
            if (_entries.Count >= Capacity && !_entries.ContainsKey(key))
            {
                RemoveWhere(l => now >= l.ServeUntil);
                if (_entries.Count >= Capacity)
                {
                    return Admission.ServeOnce;
                }
            }
            _entries[key] = lease;
            return Admission.Cached;
        }
    }

    public int RemoveLease(string leaseId)
    {
        lock (_lock)
        {
            var revision = ++_revision;
            Remember(_revokedLeases, leaseId, revision);
            return RemoveWhere(l => l.LeaseId == leaseId);
        }
    }

    public int RemoveCredential(string credentialId)
    {
        lock (_lock)
        {
            var revision = ++_revision;
            Remember(_revokedCredentials, credentialId, revision);
            return RemoveWhere(l => l.CredentialId == credentialId);
        }
    }

    /// <summary>Drops everything; leases being fetched right now will be refused.</summary>
    public int Clear()
    {
        lock (_lock)
        {
            _clearedAt = ++_revision;
            var count = _entries.Count;
            _entries.Clear();
            return count;
        }
    }

    public IReadOnlyList<string> LeaseIds()
    {
        lock (_lock)
        {
            return _entries.Values.Select(l => l.LeaseId).Distinct(StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>After a reconnect: drop every checked lease the broker no longer vouches for.</summary>
    public int RetainValid(IReadOnlyCollection<string> checkedIds, IReadOnlySet<string> validIds)
    {
        lock (_lock)
        {
            var checkedSet = checkedIds.ToHashSet(StringComparer.Ordinal);
            return RemoveWhere(l => checkedSet.Contains(l.LeaseId) && !validIds.Contains(l.LeaseId));
        }
    }

    /// <summary>
    /// Removes and returns the lease handed out for this destination whose secret is
    /// <paramref name="password"/> (git erase). The secret comparison is constant-time.
    /// </summary>
    public CachedLease? TakeBySecret(LeaseKey request, string password) => BySecret(request, password, take: true);

    /// <summary>The lease handed out for this destination whose secret is <paramref name="password"/>, left in the cache.</summary>
    public CachedLease? FindBySecret(LeaseKey request, string password) => BySecret(request, password, take: false);

    private CachedLease? BySecret(LeaseKey request, string password, bool take)
    {
        var presented = Encoding.UTF8.GetBytes(password);
        try
        {
            lock (_lock)
            {
                foreach (var (key, lease) in _entries)
                {
                    if (key.Protocol != request.Protocol || key.Host != request.Host || key.Path != request.Path)
                    {
                        continue;
                    }
                    // git sends on erase the username it used, which we may have supplied ourselves.
                    if (request.Username.Length > 0 && key.Username != request.Username && lease.Username != request.Username)
                    {
                        continue;
                    }
                    var stored = Encoding.UTF8.GetBytes(lease.Secret);
                    var equal = CryptographicOperations.FixedTimeEquals(stored, presented);
                    CryptographicOperations.ZeroMemory(stored);
                    if (equal)
                    {
                        if (take)
                        {
                            _entries.Remove(key);
                        }
                        return lease;
                    }
                }
                return null;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(presented);
        }
    }

    private int RemoveWhere(Func<CachedLease, bool> predicate)
    {
        var doomed = _entries.Where(e => predicate(e.Value)).Select(e => e.Key).ToList();
        foreach (var key in doomed)
        {
            _entries.Remove(key);
        }
        return doomed.Count;
    }

    private void Remember(Dictionary<string, (long Revision, DateTimeOffset At)> tombstones, string id, long revision)
    {
        var now = time.GetUtcNow();
        tombstones[id] = (revision, now);
        if (tombstones.Count > Capacity)
        {
            foreach (var old in tombstones.Where(t => now - t.Value.At > TombstoneLifetime).Select(t => t.Key).ToList())
            {
                tombstones.Remove(old);
            }
        }
    }
}
