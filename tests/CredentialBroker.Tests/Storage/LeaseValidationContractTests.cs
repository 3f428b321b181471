using Xares.Broker.Leases;
using Xares.Broker.Storage;

namespace Xares.Broker.Tests.Storage;

/// <summary>ValidateLeases' read (<see cref="LeaseStore.StillValid"/>) on both backends: the right answer, in few statements.</summary>
public abstract class LeaseValidationContractTests(StorageBackend backend)
{
    [Fact]
    public async Task StillValid_ThousandIds_OneStatementPer200AndOnlyLiveCurrentOwnLeases()
    {
        await using var db = await ContractDatabase.CreateAsync(backend);
        var replica = db.AddReplica(); // it creates the keyring the credential row refers to
        var database = replica.Database;
        var now = DateTimeOffset.UtcNow;
        using (var setup = database.Open())
        {
            Run(setup, "INSERT INTO users (id, name, created_at) VALUES (@id, 'u', 0)", ("@id", "usr_1"));
            foreach (var workspace in new[] { "ws_1", "ws_2" })
            {
                Run(setup, "INSERT INTO workspaces (id, user_id, name, created_at) VALUES (@id, 'usr_1', 'w', 0)", ("@id", workspace));
            }
            Run(setup, """
                INSERT INTO credentials (id, user_id, kind, provider, secret_version, kek_version, wrapped_dek, ciphertext, secret_hint, created_at, updated_at)
                VALUES ('cred_1', 'usr_1', 'git', 'generic', 2, @kek, @blob, @blob, '…abcd', 0, 0)
                """, ("@blob", new byte[] { 1 }), ("@kek", (long)replica.Keyring.CurrentVersion));
            AddLease(setup, "lease_live", "ws_1", 2, now.AddMinutes(5), revoked: false);
            AddLease(setup, "lease_expired", "ws_1", 2, now.AddMinutes(-1), revoked: false);
            AddLease(setup, "lease_revoked", "ws_1", 2, now.AddMinutes(5), revoked: true);
            AddLease(setup, "lease_old_version", "ws_1", 1, now.AddMinutes(5), revoked: false);
            AddLease(setup, "lease_other_workspace", "ws_2", 2, now.AddMinutes(5), revoked: false);
        }
        // 1,000 distinct ids (a sidecar's whole cache at most), the interesting ones among them, one repeated.
        var asked = Enumerable.Range(0, 995).Select(i => $"lease_unknown_{i}")
            .Concat(["lease_expired", "lease_live", "lease_revoked", "lease_old_version", "lease_other_workspace", "lease_live"])
            .Concat(Enumerable.Range(0, 50).Select(i => $"lease_beyond_the_cap_{i}"))
            .ToList();

        using var counting = new CountingConnection(database.Open());
        var valid = LeaseStore.StillValid(counting, "ws_1", asked, now);

        Assert.Equal(["lease_live"], valid);
        Assert.Equal(LeaseStore.MaxValidatedLeases / 200, counting.Statements.Count);
        Assert.All(counting.Statements, sql => Assert.Contains(" IN (", sql, StringComparison.Ordinal));
    }

    private static void AddLease(System.Data.Common.DbConnection connection, string id, string workspace, long secretVersion, DateTimeOffset expires, bool revoked) =>
        Run(connection, """
            INSERT INTO leases (id, workspace_id, session_id, credential_id, secret_version, issued_at, expires_at, revoked_at)
            VALUES (@id, @ws, 'ses_1', 'cred_1', @version, 0, @expires, @revoked)
            """,
            ("@id", id), ("@ws", workspace), ("@version", secretVersion), ("@expires", expires.ToDb()), ("@revoked", revoked ? (object)1L : null));

    private static void Run(System.Data.Common.DbConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        Sql.Execute(connection, null, sql, parameters);
}

public sealed class SqliteLeaseValidationContractTests() : LeaseValidationContractTests(new SqliteBackend());

public sealed class PostgresLeaseValidationContractTests() : LeaseValidationContractTests(new PostgresBackend());
