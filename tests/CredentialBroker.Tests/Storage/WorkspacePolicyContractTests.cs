using System.Data.Common;
using Xares.Broker.Api;
using Xares.Broker.Hosting;
using Xares.Broker.Leases;
using Xares.Broker.Minted;
using Xares.Broker.Revocations;
using Xares.Broker.Storage;
using Xares.Broker.Workspaces;

namespace Xares.Broker.Tests.Storage;

/// <summary>A workspace's policy changed on both backends: the row, the leases it no longer allows, their revocations and the audit record, in one commit.</summary>
public abstract class WorkspacePolicyContractTests(StorageBackend backend)
{
    [Fact]
    public async Task UpdateAsync_NarrowedHosts_RevokesExcludedLeasesAppendsRevocationsAndAudits()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica();
        var now = DateTimeOffset.UtcNow;
        using (var setup = replica.Database.Open())
        {
            Run(setup, "INSERT INTO users (id, name, created_at) VALUES ('usr_1', 'u', 0)");
            Run(setup, "INSERT INTO workspaces (id, user_id, name, allowed_hosts, created_at) VALUES ('ws_1', 'usr_1', 'before', NULL, 0)");
            AddCredential(setup, replica, "cred_a", "git", "generic", "https://git.a.test");
            AddCredential(setup, replica, "cred_b", "git", "generic", "https://git.b.test:8443");
            AddCredential(setup, replica, "cred_ai", "ai", "anthropic", null);
            AddLease(setup, "lease_a", "cred_a", now.AddMinutes(5));
            AddLease(setup, "lease_b", "cred_b", now.AddMinutes(5));
            AddLease(setup, "lease_ai", "cred_ai", now.AddMinutes(5));
            AddLease(setup, "lease_b_expired", "cred_b", now.AddMinutes(-1));
        }
        var minted = new MintedTokenRevocation(replica.Revocations);
        var lifecycle = new WorkspaceLifecycle(replica.Writes, replica.Audit, replica.Revocations, new LeaseRevocation(replica.Revocations, minted),
            minted, new BrokerOptions(), TimeProvider.System);
        var caller = new Caller("key_1", new HashSet<string>(StringComparer.Ordinal), null);

        var updated = await lifecycle.UpdateAsync(caller, "ws_1", new WorkspacePatch("after", true, ["git.a.test", "git.b.test:443"]), "192.0.2.1");

        Assert.Equal("after", updated.Name);
        using var connection = replica.Database.Open();
        var stored = WorkspaceStore.Find(connection, null, "ws_1")!;
        Assert.Equal("after", stored.Name);
        Assert.Equal(["git.a.test", "git.b.test:443"], stored.AllowedHosts);
        Assert.Equal(["lease_a"], LeaseStore.StillValid(connection, "ws_1", ["lease_a", "lease_b", "lease_ai"], now));
        var revoked = RevocationLog.ReadAfter(connection, 0, "ws_1", "usr_1");
        Assert.Equal(["lease_ai", "lease_b"], revoked.Where(r => r.Kind == RevocationKinds.Lease).Select(r => r.TargetId).Order(StringComparer.Ordinal));
        var detail = (string?)Sql.Scalar(connection, null, "SELECT detail FROM audit_log WHERE action = 'workspace.update' AND workspace_id = 'ws_1'");
        Assert.Equal("name \"before\" -> \"after\"; allowed hosts (all hosts) -> [git.a.test git.b.test:443]; "
            + "revoked 2 lease(s) for hosts no longer allowed: lease_ai lease_b", detail);
        Assert.True(replica.Verify().Ok);

        // Widening back revokes nothing more.
        await lifecycle.UpdateAsync(caller, "ws_1", new WorkspacePatch(null, true, null), null);
        Assert.Equal(["lease_a"], LeaseStore.StillValid(connection, "ws_1", ["lease_a", "lease_b", "lease_ai"], now));
        Assert.Equal(revoked.Count, RevocationLog.ReadAfter(connection, 0, "ws_1", "usr_1").Count);
    }

    private static void AddCredential(DbConnection connection, ContractDatabase.Replica replica, string id, string kind, string provider, string? url) =>
        Run(connection, """
            INSERT INTO credentials (id, user_id, kind, provider, url, secret_version, kek_version, wrapped_dek, ciphertext, secret_hint, created_at, updated_at)
            VALUES (@id, 'usr_1', @kind, @provider, @url, 1, @kek, @blob, @blob, '…abcd', 0, 0)
            """,
            ("@id", id), ("@kind", kind), ("@provider", provider), ("@url", url), ("@blob", new byte[] { 1 }), ("@kek", (long)replica.Keyring.CurrentVersion));

    private static void AddLease(DbConnection connection, string id, string credential, DateTimeOffset expires) =>
        Run(connection, """
            INSERT INTO leases (id, workspace_id, session_id, credential_id, secret_version, issued_at, expires_at, revoked_at)
            VALUES (@id, 'ws_1', 'ses_1', @cred, 1, 0, @expires, NULL)
            """,
            ("@id", id), ("@cred", credential), ("@expires", expires.ToDb()));

    private static void Run(DbConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        Sql.Execute(connection, null, sql, parameters);
}

public sealed class SqliteWorkspacePolicyContractTests() : WorkspacePolicyContractTests(new SqliteBackend());

public sealed class PostgresWorkspacePolicyContractTests() : WorkspacePolicyContractTests(new PostgresBackend());
