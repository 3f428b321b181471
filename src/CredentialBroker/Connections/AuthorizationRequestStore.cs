using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Xares.Broker.Connections;

/// <summary>
/// One browser redirect grant in flight: the web UI session and user that started it, the provider
/// (and the connection it reconnects), the PKCE verifier and the redirect URI the code is bound to.
/// </summary>
internal sealed record PendingAuthorization(string State, string SessionId, string UserId, string ProviderId, string? ReconnectId, string CodeVerifier,
    string RedirectUri, DateTimeOffset ExpiresAt)
{
    public override string ToString() =>
        $"{nameof(PendingAuthorization)} {{ UserId = {UserId}, ProviderId = {ProviderId}, ReconnectId = {ReconnectId}, State = [redacted], CodeVerifier = [redacted] }}";
}

/// <summary>Why a callback's state was refused.</summary>
internal enum AuthorizationRefusal
{
    None,

    /// <summary>Never issued here, already used, or dropped (a restart or another replica: sessions are per process too).</summary>
    Unknown,
    Expired,

    /// <summary>Started by another web UI session or user: nothing may be attached to this one.</summary>
    OtherSession,
}

/// <summary>
/// The state and PKCE verifier (RFC 7636, S256) of redirect grants, held in this process's memory
/// only, like the web UI sessions they are bound to: each is taken at most once, expires after
/// <see cref="Lifetime"/>, and is given back only to the session and user that started it.
/// </summary>
internal sealed class AuthorizationRequestStore(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>A session that starts more than this many grants loses its oldest (a stuck tab cannot grow memory).</summary>
    public const int MaxPerSession = 8;

    private readonly ConcurrentDictionary<string, PendingAuthorization> _pending = new(StringComparer.Ordinal);

    public int Count => _pending.Count;

    public PendingAuthorization Begin(string sessionId, string userId, string providerId, string? reconnectId, string redirectUri)
    {
        var now = time.GetUtcNow();
        Prune(now, sessionId);
        var pending = new PendingAuthorization(RandomToken(), sessionId, userId, providerId, reconnectId, RandomToken(), redirectUri, now + Lifetime);
        _pending[pending.State] = pending;
        return pending;
    }

    /// <summary>
    /// Takes the grant started under <paramref name="state"/>. Whatever the outcome the state is
    /// used up: a state that reached the wrong session is dead for its owner too.
    /// </summary>
    public (PendingAuthorization? Value, AuthorizationRefusal Refusal) Take(string? state, string sessionId, string userId)
    {
        if (string.IsNullOrEmpty(state) || state.Length > 128 || !_pending.TryRemove(state, out var pending))
        {
            return (null, AuthorizationRefusal.Unknown);
        }
        if (pending.ExpiresAt <= time.GetUtcNow())
        {
            return (null, AuthorizationRefusal.Expired);
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(pending.SessionId), Encoding.UTF8.GetBytes(sessionId))
            || !string.Equals(pending.UserId, userId, StringComparison.Ordinal))
        {
            return (null, AuthorizationRefusal.OtherSession);
        }
        return (pending, AuthorizationRefusal.None);
    }

    /// <summary>The S256 code challenge of a verifier: BASE64URL(SHA-256(ASCII(verifier))).</summary>
    public static string ChallengeOf(string codeVerifier) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(codeVerifier)));

    private void Prune(DateTimeOffset now, string sessionId)
    {
        var mine = new List<PendingAuthorization>();
        foreach (var (state, pending) in _pending)
        {
            if (pending.ExpiresAt <= now)
            {
                _pending.TryRemove(state, out _);
            }
            else if (pending.SessionId == sessionId)
            {
                mine.Add(pending);
            }
        }
        foreach (var oldest in mine.OrderBy(p => p.ExpiresAt).Take(Math.Max(0, mine.Count - MaxPerSession + 1)))
        {
            _pending.TryRemove(oldest.State, out _);
        }
    }

    // 256 bits, base64url: a state and a verifier (43 characters, within RFC 7636's 43-128).
    private static string RandomToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
}
