using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Xares.Broker.Storage;

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

    /// <summary>Never issued, already used, pruned after expiry, or pushed out by newer grants of the same session.</summary>
    Unknown,
    Expired,

    /// <summary>Started by another web UI session or user: nothing may be attached to this one.</summary>
    OtherSession,
}

/// <summary>
/// The state and PKCE verifier (RFC 7636, S256) of redirect grants, in the database like the web UI
/// sessions they are bound to, so the provider may send the browser back to any replica. A row is
/// found by the SHA-256 of the state and holds the SHA-256 of the session id; the verifier is
/// protected with DataProtection, whose key ring every replica already shares (sealed by the vault,
/// re-sealed by key rotation like every other vault-sealed row). Each grant is taken at most once
/// across all replicas (the row is deleted as it is read), expires after <see cref="Lifetime"/>, and
/// is given back only to the session and user that started it.
/// </summary>
internal sealed class AuthorizationRequestStore(WriteQueue writes, IDataProtectionProvider protection, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>A session that starts more than this many grants loses its oldest (a stuck tab cannot grow the table).</summary>
    public const int MaxPerSession = 8;

    // Expired rows pruned by each Begin; the hourly ended-state pass takes whatever is left.
    private const int PruneChunk = 100;

    private readonly IDataProtector _protector = protection.CreateProtector("Xares.Broker.Connections.AuthorizationRequestStore.v1");

    public async Task<PendingAuthorization> BeginAsync(string sessionId, string userId, string providerId, string? reconnectId, string redirectUri)
    {
        var now = time.GetUtcNow();
        var pending = new PendingAuthorization(RandomToken(), sessionId, userId, providerId, reconnectId, RandomToken(), redirectUri, now + Lifetime);
        var stateHash = Hash(pending.State);
        var row = new AuthorizationRequestRow(Hash(sessionId), userId, providerId, reconnectId, redirectUri,
            Protector(stateHash).Protect(Encoding.ASCII.GetBytes(pending.CodeVerifier)), pending.ExpiresAt);
        await writes.ExecuteAsync((c, t) =>
        {
            AuthorizationRequestRows.DeleteExpiredBefore(c, t, now, PruneChunk);
            AuthorizationRequestRows.TrimSession(c, t, row.SessionHash, MaxPerSession - 1);
            AuthorizationRequestRows.Insert(c, t, stateHash, row, now);
        });
        return pending;
    }

    /// <summary>
    /// Takes the grant started under <paramref name="state"/>. Whatever the outcome the state is
    /// used up: a state that reached the wrong session is dead for its owner too.
    /// </summary>
    public async Task<(PendingAuthorization? Value, AuthorizationRefusal Refusal)> TakeAsync(string? state, string sessionId, string userId)
    {
        if (string.IsNullOrEmpty(state) || state.Length > 128)
        {
            return (null, AuthorizationRefusal.Unknown);
        }
        var stateHash = Hash(state);
        var row = await writes.ExecuteAsync((c, t) => AuthorizationRequestRows.Take(c, t, stateHash));
        if (row is null)
        {
            return (null, AuthorizationRefusal.Unknown);
        }
        if (row.ExpiresAt <= time.GetUtcNow())
        {
            return (null, AuthorizationRefusal.Expired);
        }
        if (!CryptographicOperations.FixedTimeEquals(row.SessionHash, Hash(sessionId)) || !string.Equals(row.UserId, userId, StringComparison.Ordinal))
        {
            return (null, AuthorizationRefusal.OtherSession);
        }
        string verifier;
        try
        {
            verifier = Encoding.ASCII.GetString(Protector(stateHash).Unprotect(row.ProtectedVerifier));
        }
        catch (CryptographicException)
        {
            return (null, AuthorizationRefusal.Unknown); // protected under a key no longer held, or altered: start again
        }
        return (new PendingAuthorization(state, sessionId, row.UserId, row.ProviderId, row.ReconnectId, verifier, row.RedirectUri, row.ExpiresAt),
            AuthorizationRefusal.None);
    }

    /// <summary>The S256 code challenge of a verifier: BASE64URL(SHA-256(ASCII(verifier))).</summary>
    public static string ChallengeOf(string codeVerifier) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(codeVerifier)));

    internal static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    private IDataProtector Protector(byte[] stateHash) => _protector.CreateProtector(Convert.ToHexString(stateHash));

    // 256 bits, base64url: a state and a verifier (43 characters, within RFC 7636's 43-128).
    private static string RandomToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
}
