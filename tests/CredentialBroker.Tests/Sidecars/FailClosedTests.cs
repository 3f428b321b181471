using Grpc.Core;
using Microsoft.Data.Sqlite;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Sidecars;

/// <summary>Invariant 3: a secret leaves the broker only after its audit record is committed.</summary>
public sealed class FailClosedTests
{
    [Fact]
    public async Task GetGitCredential_AuditWriteFails_RequestFailsWithoutSecretAndNoLease()
    {
        await using var host = await BrokerTestHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.CreateGitCredentialAsync(user, "https://git.example.test", "alice", "secret-failclosed-1234");
        var sidecar = await (await SidecarClient.CreateWorkspaceAsync(host, user)).OpenAsync();

        // From now on every audit insert fails, as a full disk or a broken database would.
        Execute(host, "CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(FAIL, 'audit unavailable'); END;");

        var error = await Assert.ThrowsAsync<RpcException>(() => sidecar.GetAsync("https", "git.example.test"));
        Assert.DoesNotContain("secret-failclosed-1234", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(0L, Scalar(host, "SELECT COUNT(*) FROM leases"));

        Execute(host, "DROP TRIGGER audit_down;");
        var lease = (await sidecar.GetAsync("https", "git.example.test")).Lease;
        Assert.Equal("secret-failclosed-1234", lease.Secret);
    }

    private static void Execute(BrokerTestHost host, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={host.DatabasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(BrokerTestHost host, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={host.DatabasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
