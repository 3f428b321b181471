using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Connections;

namespace Xares.Broker.Tests.Connections;

/// <summary>The state and PKCE verifier of browser redirect grants: one use, ten minutes, only for the session and user that started it.</summary>
public sealed class AuthorizationRequestStoreTests
{
    private const string Callback = "https://broker.example.test/ui/connections/callback";
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Take_SameSessionAndUser_GivesTheGrantOnce()
    {
        var store = new AuthorizationRequestStore(_time);
        var started = store.Begin("session-a", "usr_alice", "oauthp_1", null, Callback);

        var (taken, refusal) = store.Take(started.State, "session-a", "usr_alice");

        Assert.Equal(AuthorizationRefusal.None, refusal);
        Assert.Equal(started, taken);
        Assert.Equal(Callback, taken!.RedirectUri);
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void Take_Replayed_IsUnknown()
    {
        var store = new AuthorizationRequestStore(_time);
        var started = store.Begin("session-a", "usr_alice", "oauthp_1", null, Callback);
        store.Take(started.State, "session-a", "usr_alice");

        var (taken, refusal) = store.Take(started.State, "session-a", "usr_alice");

        Assert.Null(taken);
        Assert.Equal(AuthorizationRefusal.Unknown, refusal);
    }

    [Fact]
    public void Take_AfterTenMinutes_IsExpired()
    {
        var store = new AuthorizationRequestStore(_time);
        var started = store.Begin("session-a", "usr_alice", "oauthp_1", null, Callback);
        _time.Advance(AuthorizationRequestStore.Lifetime);

        var (taken, refusal) = store.Take(started.State, "session-a", "usr_alice");

        Assert.Null(taken);
        Assert.Equal(AuthorizationRefusal.Expired, refusal);
    }

    [Fact]
    public void Take_JustBeforeExpiry_Works()
    {
        var store = new AuthorizationRequestStore(_time);
        var started = store.Begin("session-a", "usr_alice", "oauthp_1", "conn_1", Callback);
        _time.Advance(AuthorizationRequestStore.Lifetime - TimeSpan.FromSeconds(1));

        var (taken, refusal) = store.Take(started.State, "session-a", "usr_alice");

        Assert.Equal(AuthorizationRefusal.None, refusal);
        Assert.Equal("conn_1", taken!.ReconnectId);
    }

    [Fact]
    public void Take_FromAnotherSession_IsRefused_AndTheStateIsDeadForItsOwnerToo()
    {
        var store = new AuthorizationRequestStore(_time);
        var bobs = store.Begin("session-bob", "usr_bob", "oauthp_1", null, Callback);

        var (taken, refusal) = store.Take(bobs.State, "session-alice", "usr_alice");

        Assert.Null(taken);
        Assert.Equal(AuthorizationRefusal.OtherSession, refusal);
        Assert.Equal(AuthorizationRefusal.Unknown, store.Take(bobs.State, "session-bob", "usr_bob").Refusal);
    }

    [Fact]
    public void Take_SameSessionIdButAnotherUser_IsRefused()
    {
        var store = new AuthorizationRequestStore(_time);
        var started = store.Begin("session-a", "usr_alice", "oauthp_1", null, Callback);

        Assert.Equal(AuthorizationRefusal.OtherSession, store.Take(started.State, "session-a", "usr_bob").Refusal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("made-up-state")]
    public void Take_NeverIssued_IsUnknown(string? state)
    {
        var store = new AuthorizationRequestStore(_time);
        store.Begin("session-a", "usr_alice", "oauthp_1", null, Callback);

        Assert.Equal(AuthorizationRefusal.Unknown, store.Take(state, "session-a", "usr_alice").Refusal);
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public void Begin_StateAndVerifierAreRandom256Bits_AndTheChallengeIsS256()
    {
        var store = new AuthorizationRequestStore(_time);
        var first = store.Begin("session-a", "usr_alice", "oauthp_1", null, Callback);
        var second = store.Begin("session-a", "usr_alice", "oauthp_1", null, Callback);

        Assert.NotEqual(first.State, second.State);
        Assert.NotEqual(first.CodeVerifier, second.CodeVerifier);
        Assert.Equal(43, first.CodeVerifier.Length);
        Assert.Equal(43, first.State.Length);
        Assert.DoesNotContain(first.CodeVerifier, first.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(first.State, first.ToString(), StringComparison.Ordinal);
        // RFC 7636 appendix B's example.
        Assert.Equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", AuthorizationRequestStore.ChallengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        var expected = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(first.CodeVerifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal(expected, AuthorizationRequestStore.ChallengeOf(first.CodeVerifier));
    }

    [Fact]
    public void Begin_DropsExpiredGrants_AndKeepsAtMostAFewPerSession()
    {
        var store = new AuthorizationRequestStore(_time);
        var old = store.Begin("session-b", "usr_bob", "oauthp_1", null, Callback);
        _time.Advance(AuthorizationRequestStore.Lifetime + TimeSpan.FromSeconds(1));
        var first = store.Begin("session-a", "usr_alice", "oauthp_1", null, Callback);
        for (var i = 1; i < AuthorizationRequestStore.MaxPerSession + 3; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            store.Begin("session-a", "usr_alice", "oauthp_1", null, Callback);
        }

        Assert.Equal(AuthorizationRequestStore.MaxPerSession, store.Count);
        Assert.Equal(AuthorizationRefusal.Unknown, store.Take(old.State, "session-b", "usr_bob").Refusal);
        Assert.Equal(AuthorizationRefusal.Unknown, store.Take(first.State, "session-a", "usr_alice").Refusal);
    }
}
