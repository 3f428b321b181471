using System.Security.Cryptography;
using Grpc.Net.Client;
using Xares.DevGitServer;

namespace Xares.EndToEnd.Tests.Replication;

/// <summary>
/// Two broker replicas (A and B, separate processes) on one fresh PostgreSQL database, plus a dev
/// git server. A starts first and migrates; B finds the schema in place.
/// </summary>
public sealed class ReplicaSetFixture : IAsyncLifetime
{
    private int counter;

    internal ScratchDirectory Directory { get; } = ScratchDirectory.Create("xr-");

    internal string Database { get; private set; } = "";

    internal BrokerProcess A { get; private set; } = null!;

    internal BrokerProcess B { get; private set; } = null!;

    /// <summary>REST on replica A and on replica B, with the same admin key.</summary>
    internal AdminClient AdminA { get; private set; } = null!;

    internal AdminClient AdminB { get; private set; } = null!;

    internal GitHttpServer GitServer { get; private set; } = null!;

    internal string NextName(string prefix) => $"{prefix}{Interlocked.Increment(ref counter)}";

    internal static GrpcChannel Channel(BrokerProcess replica) => GrpcChannel.ForAddress(replica.GrpcUrl);

    public async Task InitializeAsync()
    {
        Database = await PostgresServer.CreateDatabaseAsync();
        var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        GitServer = await GitHttpServer.StartAsync(new GitHttpServerOptions { RepositoriesRoot = Directory.Sub("git") });
        A = await BrokerProcess.StartAsync(Directory, Replica("replica-a", masterKey, writesAdminKey: true));
        B = await BrokerProcess.StartAsync(Directory, Replica("replica-b", masterKey, writesAdminKey: false));
        AdminA = A.CreateAdminClient();
        AdminB = new AdminClient(B.RestUrl, A.AdminKey);
    }

    // The shared database and master key; the race tests drive one session far past the default
    // per-session call rate (100/s).
    private BrokerLaunch Replica(string name, string masterKey, bool writesAdminKey) => new(
        name,
        ["--session-rate", "100000", "--session-burst", "100000"],
        new Dictionary<string, string> { ["XARES_MASTER_KEY"] = masterKey, ["XARES_DATABASE"] = Database },
        writesAdminKey);

    /// <summary>A user with a git credential for the dev server, and a repository it can push to.</summary>
    internal async Task<(string UserId, GitIdentity Identity, string Url)> CreateUserWithRepositoryAsync()
    {
        var userId = await AdminA.CreateUserAsync(NextName("user"));
        var username = NextName("u");
        var token = "tok_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        GitServer.AddAccount(new GitAccount(username, token, null));
        var credential = await AdminA.CreateGitCredentialAsync(userId, GitServer.BaseUrl, username, token);
        var path = $"team/{NextName("repo")}.git";
        await GitServer.CreateRepositoryAsync(path);
        return (userId, new GitIdentity(username, token, AdminClient.IdOf(credential)), GitServer.RepositoryUrl(path));
    }

    public async Task DisposeAsync()
    {
        AdminA?.Dispose();
        AdminB?.Dispose();
        if (A is not null)
        {
            await A.DisposeAsync();
        }
        if (B is not null)
        {
            await B.DisposeAsync();
        }
        if (GitServer is not null)
        {
            await GitServer.DisposeAsync();
        }
        if (Database.Length > 0)
        {
            await PostgresServer.DropDatabaseAsync(Database);
        }
        Directory.Dispose();
    }
}
