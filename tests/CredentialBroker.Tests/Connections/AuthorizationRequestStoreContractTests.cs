using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Connections;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;
using Xares.Broker.WebUi;

namespace Xares.Broker.Tests.Connections;

/// <summary>
/// The state and PKCE verifier of browser redirect grants, in the database on SQLite and PostgreSQL:
/// one use across every replica, ten minutes, only for the session and user that started it.
/// </summary>
public abstract class AuthorizationRequestStoreContractTests(StorageBackend backend)
{
    private const string Callback = "https://broker.example.test/ui/connections/callback";
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T10:00:00Z", CultureInfo.InvariantCulture));

    [Fact]
    public async Task Take_SameSessionAndUser_GivesTheGrantOnce()
    {
        await using var rig = await Rig.StartAsync(backend, _time);
        var started = await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", null, Callback);

        var (taken, refusal) = await rig.A.TakeAsync(started.State, "session-a", "usr_alice");

        Assert.Equal(AuthorizationRefusal.None, refusal);
        Assert.Equal(started, taken);
        Assert.Equal(Callback, taken!.RedirectUri);
        Assert.Equal(0, await rig.CountAsync());
        Assert.Equal(AuthorizationRefusal.Unknown, (await rig.A.TakeAsync(started.State, "session-a", "usr_alice")).Refusal);
    }

    [Fact]
    public async Task BeginOnOneReplica_TakeOnAnother_Works_AndASecondTakeOnEitherIsUnknown()
    {
        await using var rig = await Rig.StartAsync(backend, _time);
        var started = await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", "conn_1", Callback);

        var (taken, refusal) = await rig.B.TakeAsync(started.State, "session-a", "usr_alice");

        Assert.Equal(AuthorizationRefusal.None, refusal);
        Assert.Equal(started, taken);
        Assert.Equal(AuthorizationRefusal.Unknown, (await rig.B.TakeAsync(started.State, "session-a", "usr_alice")).Refusal);
        Assert.Equal(AuthorizationRefusal.Unknown, (await rig.A.TakeAsync(started.State, "session-a", "usr_alice")).Refusal);
    }

    [Fact]
    public async Task Take_RacedOnTwoReplicas_OnlyOneGetsTheGrant()
    {
        await using var rig = await Rig.StartAsync(backend, _time);
        var states = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            states.Add((await rig.A.BeginAsync($"session-{i}", "usr_alice", "oauthp_1", null, Callback)).State);
        }

        foreach (var state in states)
        {
            var session = $"session-{states.IndexOf(state)}";
            var outcomes = await Task.WhenAll(rig.A.TakeAsync(state, session, "usr_alice"), rig.B.TakeAsync(state, session, "usr_alice"));
            Assert.Single(outcomes, o => o.Refusal == AuthorizationRefusal.None);
            Assert.Single(outcomes, o => o.Refusal == AuthorizationRefusal.Unknown);
        }
    }

    [Fact]
    public async Task Take_AfterTenMinutes_IsExpired_JustBefore_Works()
    {
        await using var rig = await Rig.StartAsync(backend, _time);
        var late = await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", null, Callback);
        var onTime = await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", "conn_1", Callback);

        _time.Advance(AuthorizationRequestStore.Lifetime - TimeSpan.FromSeconds(1));
        var (taken, refusal) = await rig.B.TakeAsync(onTime.State, "session-a", "usr_alice");
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(AuthorizationRefusal.None, refusal);
        Assert.Equal("conn_1", taken!.ReconnectId);
        Assert.Equal(AuthorizationRefusal.Expired, (await rig.B.TakeAsync(late.State, "session-a", "usr_alice")).Refusal);
        Assert.Equal(AuthorizationRefusal.Unknown, (await rig.A.TakeAsync(late.State, "session-a", "usr_alice")).Refusal);
    }

    [Fact]
    public async Task Take_FromAnotherSession_IsRefused_AndTheStateIsDeadForItsOwnerToo()
    {
        await using var rig = await Rig.StartAsync(backend, _time);
        var bobs = await rig.A.BeginAsync("session-bob", "usr_bob", "oauthp_1", null, Callback);

        var (taken, refusal) = await rig.B.TakeAsync(bobs.State, "session-alice", "usr_alice");

        Assert.Null(taken);
        Assert.Equal(AuthorizationRefusal.OtherSession, refusal);
        Assert.Equal(AuthorizationRefusal.Unknown, (await rig.A.TakeAsync(bobs.State, "session-bob", "usr_bob")).Refusal);
    }

    [Fact]
    public async Task Take_SameSessionIdButAnotherUser_IsRefused_AndUsedUp()
    {
        await using var rig = await Rig.StartAsync(backend, _time);
        var started = await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", null, Callback);

        Assert.Equal(AuthorizationRefusal.OtherSession, (await rig.A.TakeAsync(started.State, "session-a", "usr_bob")).Refusal);
        Assert.Equal(AuthorizationRefusal.Unknown, (await rig.A.TakeAsync(started.State, "session-a", "usr_alice")).Refusal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("made-up-state")]
    public async Task Take_NeverIssued_IsUnknown_AndTakesNothing(string? state)
    {
        await using var rig = await Rig.StartAsync(backend, _time);
        await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", null, Callback);

        Assert.Equal(AuthorizationRefusal.Unknown, (await rig.A.TakeAsync(state, "session-a", "usr_alice")).Refusal);
        Assert.Equal(1, await rig.CountAsync());
    }

    [Fact]
    public async Task Begin_StateAndVerifierAreRandom256Bits_ChallengeIsS256_TableHoldsNeitherStateNorSessionNorVerifier()
    {
        await using var rig = await Rig.StartAsync(backend, _time);
        var first = await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", null, Callback);
        var second = await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", null, Callback);

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

        var rows = await rig.Replica.Database.ReadAsync(c => Sql.Query(c, null, "SELECT state_hash, session_hash, code_verifier FROM authorization_requests",
            r => ((byte[])r.GetValue(0), (byte[])r.GetValue(1), (byte[])r.GetValue(2))));
        Assert.Equal(2, rows.Count);
        Assert.Contains(rows, r => r.Item1.SequenceEqual(SHA256.HashData(Encoding.UTF8.GetBytes(first.State))));
        foreach (var (stateHash, sessionHash, verifier) in rows)
        {
            Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes("session-a")), sessionHash);
            var clear = Encoding.Latin1.GetString(stateHash) + Encoding.Latin1.GetString(sessionHash) + Encoding.Latin1.GetString(verifier)
                + Encoding.Unicode.GetString(verifier) + Convert.ToBase64String(verifier);
            foreach (var secret in new[] { first.State, second.State, first.CodeVerifier, second.CodeVerifier, "session-a" })
            {
                Assert.DoesNotContain(secret, clear, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Take_VerifierMovedToAnotherRow_DoesNotOpen()
    {
        await using var rig = await Rig.StartAsync(backend, _time);
        var first = await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", null, Callback);
        var second = await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", null, Callback);

        // The verifier is bound to its own state: a row given another grant's protected verifier is refused.
        await rig.Replica.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t,
            "UPDATE authorization_requests SET code_verifier = (SELECT code_verifier FROM authorization_requests WHERE state_hash = @other) WHERE state_hash = @mine",
            ("@other", SHA256.HashData(Encoding.UTF8.GetBytes(second.State))), ("@mine", SHA256.HashData(Encoding.UTF8.GetBytes(first.State)))));

        Assert.Equal(AuthorizationRefusal.Unknown, (await rig.B.TakeAsync(first.State, "session-a", "usr_alice")).Refusal);
        Assert.Equal(second.CodeVerifier, (await rig.B.TakeAsync(second.State, "session-a", "usr_alice")).Value!.CodeVerifier);
    }

    [Fact]
    public async Task Begin_DropsExpiredGrants_AndKeepsAtMostAFewPerSession_PrunerTakesTheRest()
    {
        await using var rig = await Rig.StartAsync(backend, _time);
        var old = await rig.A.BeginAsync("session-b", "usr_bob", "oauthp_1", null, Callback);
        _time.Advance(AuthorizationRequestStore.Lifetime + TimeSpan.FromSeconds(1));
        var first = await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", null, Callback);
        var others = new List<PendingAuthorization>();
        for (var i = 1; i < AuthorizationRequestStore.MaxPerSession + 3; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            others.Add(await rig.B.BeginAsync("session-a", "usr_alice", "oauthp_1", null, Callback));
        }

        Assert.Equal(AuthorizationRequestStore.MaxPerSession, await rig.CountAsync());
        Assert.Equal(AuthorizationRefusal.Unknown, (await rig.A.TakeAsync(old.State, "session-b", "usr_bob")).Refusal);
        Assert.Equal(AuthorizationRefusal.Unknown, (await rig.A.TakeAsync(first.State, "session-a", "usr_alice")).Refusal);
        Assert.Equal(AuthorizationRefusal.None, (await rig.A.TakeAsync(others[^1].State, "session-a", "usr_alice")).Refusal);

        _time.Advance(AuthorizationRequestStore.Lifetime);
        var pruner = new Broker.Retention.EndedStatePruner(rig.Replica.Writes, new Broker.Hosting.BrokerOptions(), _time);
        Assert.Equal(AuthorizationRequestStore.MaxPerSession - 1, (await pruner.PruneAsync()).AuthorizationRequests);
        Assert.Equal(0, await rig.CountAsync());
    }

    [Fact]
    public async Task DeletingTheUser_DropsItsGrants()
    {
        await using var rig = await Rig.StartAsync(backend, _time);
        var started = await rig.A.BeginAsync("session-a", "usr_alice", "oauthp_1", null, Callback);

        await rig.Replica.Writes.ExecuteAsync((c, t) => Broker.Users.UserStore.Delete(c, t, "usr_alice"));

        Assert.Equal(0, await rig.CountAsync());
        Assert.Equal(AuthorizationRefusal.Unknown, (await rig.A.TakeAsync(started.State, "session-a", "usr_alice")).Refusal);
    }

    /// <summary>Two stores (two replicas' worth: own connections, write queue and DataProtection) over one database.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private readonly ContractDatabase _db;

        private Rig(ContractDatabase db, FakeTimeProvider time)
        {
            _db = db;
            Replica = db.AddReplica();
            var other = db.AddReplica();
            A = new AuthorizationRequestStore(Replica.Writes, Protection(Replica, time), time);
            B = new AuthorizationRequestStore(other.Writes, Protection(other, time), time);
        }

        public ContractDatabase.Replica Replica { get; }
        public AuthorizationRequestStore A { get; }
        public AuthorizationRequestStore B { get; }

        public static async Task<Rig> StartAsync(StorageBackend backend, FakeTimeProvider time)
        {
            var rig = new Rig(await ContractDatabase.CreateAsync(backend), time);
            foreach (var user in new[] { "usr_alice", "usr_bob" })
            {
                await rig.Replica.Writes.ExecuteAsync((c, t) => Sql.Execute(c, t, "INSERT INTO users (id, name, created_at) VALUES (@id, @id, 0)", ("@id", user)));
            }
            return rig;
        }

        public Task<int> CountAsync() => Replica.Database.ReadAsync(c =>
            Convert.ToInt32(Sql.Scalar(c, null, "SELECT COUNT(*) FROM authorization_requests"), CultureInfo.InvariantCulture));

        public ValueTask DisposeAsync() => _db.DisposeAsync();

        private static IDataProtectionProvider Protection(ContractDatabase.Replica replica, TimeProvider time)
        {
            var services = new ServiceCollection();
            var repository = new DatabaseXmlRepository(replica.Database, replica.Writes, replica.Keyring, time);
            services.AddDataProtection().SetApplicationName(WebUiAuthentication.DataProtectionApplicationName);
            services.Configure<KeyManagementOptions>(keys => keys.XmlRepository = repository);
            return services.BuildServiceProvider().GetRequiredService<IDataProtectionProvider>();
        }
    }
}

public sealed class SqliteAuthorizationRequestStoreContractTests() : AuthorizationRequestStoreContractTests(new SqliteBackend());

public sealed class PostgresAuthorizationRequestStoreContractTests() : AuthorizationRequestStoreContractTests(new PostgresBackend());
