using System.Data.Common;
using Xares.Broker.Leases;
using Xares.Broker.Sessions;
using Xares.Broker.Storage;

namespace Xares.Broker.Tests.Storage;

/// <summary>
/// The reads behind the web UI's "My workspaces" on both backends: a user's live leases with what they
/// hand out (<see cref="LeaseStore.LiveForUser"/>) and live sessions with when they were last seen
/// (<see cref="SessionStore.LiveWithLastSeen"/>).
/// </summary>
public abstract class WorkspaceOverviewContractTests(StorageBackend backend)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    [Fact]
    public async Task LiveForUser_OnlyTheUsersLiveLeases_NewestFirst_WithCredentialNameAndUrl()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        using (var setup = replica.Database.Open())
        {
            Seed(setup, (long)replica.Keyring.CurrentVersion);
            AddLease(setup, "lease_old", "ws_1", "cred_1", Now.AddMinutes(-3), Now.AddMinutes(10), revoked: false);
            AddLease(setup, "lease_new", "ws_1", "cred_2", Now.AddMinutes(-1), Now.AddMinutes(10), revoked: false);
            AddLease(setup, "lease_revoked", "ws_1", "cred_1", Now.AddMinutes(-2), Now.AddMinutes(10), revoked: true);
            AddLease(setup, "lease_expired", "ws_1", "cred_1", Now.AddMinutes(-30), Now.AddMinutes(-1), revoked: false);
            AddLease(setup, "lease_bobs", "ws_2", "cred_3", Now.AddMinutes(-1), Now.AddMinutes(10), revoked: false);
        }

        using var connection = replica.Database.Open();
        var leases = LeaseStore.LiveForUser(connection, "usr_1", Now, 10);

        Assert.Equal(["lease_new", "lease_old"], leases.Select(l => l.Lease.Id));
        Assert.Equal(("ai", "openai", (string?)null), (leases[0].Kind, leases[0].Source, leases[0].Destination));
        Assert.Equal(("git", "team app", "https://git.example/team/app"), (leases[1].Kind, leases[1].Source, leases[1].Destination));
        Assert.Single(LeaseStore.LiveForUser(connection, "usr_1", Now, 1));
    }

    [Fact]
    public async Task LiveWithLastSeen_LiveSessionsOnly_LastSeenIsTheLatestRefreshOrLease()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        using (var setup = replica.Database.Open())
        {
            Seed(setup, (long)replica.Keyring.CurrentVersion);
            AddSession(setup, "ses_quiet", "ws_1", Now.AddHours(-2), revoked: false);
            AddToken(setup, "ses_quiet", 1, Now.AddHours(-2));
            AddSession(setup, "ses_busy", "ws_1", Now.AddHours(-1), revoked: false);
            AddToken(setup, "ses_busy", 2, Now.AddHours(-1));
            AddToken(setup, "ses_busy", 3, Now.AddMinutes(-20));
            AddLease(setup, "lease_1", "ws_1", "cred_1", Now.AddMinutes(-5), Now.AddMinutes(10), revoked: false, session: "ses_busy");
            AddSession(setup, "ses_ended", "ws_1", Now.AddHours(-1), revoked: true);
            AddSession(setup, "ses_bobs", "ws_2", Now.AddHours(-1), revoked: false);
        }

        using var connection = replica.Database.Open();
        var sessions = SessionStore.LiveWithLastSeen(connection, ["ws_1"], Now);

        Assert.Equal(["ses_quiet", "ses_busy"], sessions.Select(s => s.Id));
        Assert.Equal(Now.AddHours(-2), sessions[0].LastSeenAt);
        Assert.Equal(Now.AddMinutes(-5), sessions[1].LastSeenAt);
        Assert.Equal("10.0.0.7", sessions[1].RemoteAddress);
    }

    private static void Seed(DbConnection c, long kekVersion)
    {
        Run(c, "INSERT INTO users (id, name, created_at) VALUES ('usr_1', 'alice', 0), ('usr_2', 'bob', 0)");
        Run(c, "INSERT INTO workspaces (id, user_id, name, created_at) VALUES ('ws_1', 'usr_1', 'laptop', 0), ('ws_2', 'usr_2', 'desk', 0)");
        AddCredential(c, "cred_1", "usr_1", "git", "generic", "team app", "https://git.example/team/app", kekVersion);
        AddCredential(c, "cred_2", "usr_1", "ai", "openai", null, null, kekVersion);
        AddCredential(c, "cred_3", "usr_2", "git", "generic", "bob's", "https://git.example/bob", kekVersion);
    }

    private static void AddCredential(DbConnection c, string id, string user, string kind, string provider, string? name, string? url, long kek) =>
        Run(c, """
            INSERT INTO credentials (id, user_id, kind, provider, name, url, secret_version, kek_version, wrapped_dek, ciphertext, secret_hint, created_at, updated_at)
            VALUES (@id, @user, @kind, @provider, @name, @url, 1, @kek, @blob, @blob, '…abcd', 0, 0)
            """,
            ("@id", id), ("@user", user), ("@kind", kind), ("@provider", provider), ("@name", name), ("@url", url), ("@kek", kek),
            ("@blob", new byte[] { 1 }));

    private static void AddLease(DbConnection c, string id, string workspace, string credential, DateTimeOffset issued, DateTimeOffset expires, bool revoked,
        string session = "ses_x") =>
        Run(c, """
            INSERT INTO leases (id, workspace_id, session_id, credential_id, secret_version, issued_at, expires_at, revoked_at)
            VALUES (@id, @ws, @session, @cred, 1, @issued, @expires, @revoked)
            """,
            ("@id", id), ("@ws", workspace), ("@session", session), ("@cred", credential), ("@issued", issued.ToDb()), ("@expires", expires.ToDb()),
            ("@revoked", revoked ? (object)issued.ToDb() : null));

    private static void AddSession(DbConnection c, string id, string workspace, DateTimeOffset created, bool revoked) =>
        Run(c, """
            INSERT INTO sessions (id, workspace_id, created_at, expires_at, revoked_at, remote_address)
            VALUES (@id, @ws, @created, @expires, @revoked, '10.0.0.7')
            """,
            ("@id", id), ("@ws", workspace), ("@created", created.ToDb()), ("@expires", created.AddHours(24).ToDb()), ("@revoked", revoked ? (object)created.ToDb() : null));

    private static void AddToken(DbConnection c, string session, byte hash, DateTimeOffset created) =>
        Run(c, "INSERT INTO session_tokens (token_hash, session_id, created_at, expires_at) VALUES (@hash, @session, @created, @expires)",
            ("@hash", new[] { hash }), ("@session", session), ("@created", created.ToDb()), ("@expires", created.AddHours(1).ToDb()));

    private static void Run(DbConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        Sql.Execute(connection, null, sql, parameters);
}

public sealed class SqliteWorkspaceOverviewContractTests() : WorkspaceOverviewContractTests(new SqliteBackend());

public sealed class PostgresWorkspaceOverviewContractTests() : WorkspaceOverviewContractTests(new PostgresBackend());
