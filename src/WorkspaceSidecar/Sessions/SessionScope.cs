using System.Security.Cryptography;
using Xares.Protos.Broker.V1;

namespace Xares.Sidecar.Sessions;

/// <summary>What status may show about a session: no token.</summary>
internal sealed record SessionSnapshot(
    string SessionId,
    string WorkspaceId,
    DateTimeOffset TokenIssuedAt,
    DateTimeOffset TokenExpiresAt,
    DateTimeOffset? SessionExpiresAt);

/// <summary>
/// One session from bootstrap to its end. Its token changes on refresh (only under the
/// write side of <see cref="TokenRotationGate"/>); its lifetime token stops its background loops.
/// </summary>
internal sealed class SessionScope
{
    private static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromMinutes(10);
    // Not linked to a parent and never disposed: loops may still read Lifetime after End().
    private readonly CancellationTokenSource _lifetime = new();
    private long _revocationSequence;

    public SessionScope(SessionGrant grant, DateTimeOffset now)
    {
        _revocationSequence = grant.RevocationSequence;
        Apply(grant, now);
    }

    public string Token { get; private set; } = "";

    public SessionSnapshot Snapshot { get; private set; } = null!;

    public CancellationToken Lifetime => _lifetime.Token;

    public bool IsEnded => _lifetime.IsCancellationRequested;

    public long RevocationSequence => Interlocked.Read(ref _revocationSequence);

    /// <summary>
    /// The retry key of a refresh that was sent but not answered: the broker may have rotated the
    /// token already, so until a retry with this key settles it, no call may present the token
    /// (a superseded token presented again revokes the workspace, rule d).
    /// </summary>
    public byte[]? UnsettledRefreshKey { get; private set; }

    /// <summary>The retry key for the next refresh attempt: the unsettled one again, or a new one.</summary>
    public byte[] BeginRefresh() => UnsettledRefreshKey ??= RandomNumberGenerator.GetBytes(32);

    public void Apply(SessionGrant grant, DateTimeOffset now)
    {
        UnsettledRefreshKey = null;
        Token = grant.SessionToken;
        Snapshot = new SessionSnapshot(
            grant.SessionId,
            grant.WorkspaceId,
            now,
            grant.TokenExpiresAt is { } expires ? expires.ToDateTimeOffset() : now + DefaultTokenLifetime,
            grant.SessionExpiresAt?.ToDateTimeOffset());
    }

    public void ObserveSequence(long sequence)
    {
        var seen = Interlocked.Read(ref _revocationSequence);
        while (sequence > seen)
        {
            var previous = Interlocked.CompareExchange(ref _revocationSequence, sequence, seen);
            if (previous == seen)
            {
                return;
            }
            seen = previous;
        }
    }

    public void End() => _lifetime.Cancel();
}
