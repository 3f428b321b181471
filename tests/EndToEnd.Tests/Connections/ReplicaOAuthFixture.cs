using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Net.Client;
using Xares.DevGitServer;
using Xares.Protos.Broker.V1;

namespace Xares.EndToEnd.Tests.Connections;

/// <summary>
/// Two broker replicas (separate processes) on one fresh PostgreSQL database, oidc-provider with
/// 9-second access tokens (refreshed with 3 s left), and the introspecting git server.
/// </summary>
public sealed class ReplicaOAuthFixture : IAsyncLifetime
{
    internal const string ProviderName = "replica-idp";
    private int _counter;

    internal ScratchDirectory Directory { get; } = ScratchDirectory.Create("xro-");

    internal string Database { get; private set; } = "";

    internal BrokerProcess A { get; private set; } = null!;

    internal BrokerProcess B { get; private set; } = null!;

    internal AdminClient Admin { get; private set; } = null!;

    internal OidcProviderProcess Idp { get; private set; } = null!;

    internal GitHttpServer GitServer { get; private set; } = null!;

    internal string NextName(string prefix) => $"{prefix}{Interlocked.Increment(ref _counter)}";

    public async Task InitializeAsync()
    {
        Database = await PostgresServer.CreateDatabaseAsync();
        var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        Idp = await OidcProviderProcess.StartAsync(Path.Combine(Directory.Logs, "oidc-provider.log"), accessTokenSeconds: 9);
        GitServer = await OAuthFixture.StartGitServerAsync(Directory, Idp);
        A = await BrokerProcess.StartAsync(Directory, Replica("replica-a", masterKey, writesAdminKey: true));
        B = await BrokerProcess.StartAsync(Directory, Replica("replica-b", masterKey, writesAdminKey: false));
        Admin = A.CreateAdminClient();
        await OAuthFixture.RegisterProviderAsync(Admin, Idp, ProviderName, GitServer.BaseUrl);
    }

    private BrokerLaunch Replica(string name, string masterKey, bool writesAdminKey) => new(
        name,
        ["--session-rate", "100000", "--session-burst", "100000", "--outbound-allow", "127.0.0.1"],
        new Dictionary<string, string> { ["XARES_MASTER_KEY"] = masterKey, ["XARES_DATABASE"] = Database },
        writesAdminKey);

    /// <summary>A user with an active connection, a workspace session, and a gRPC client on each replica.</summary>
    internal async Task<ConnectedSession> ConnectedSessionAsync()
    {
        var userId = await Admin.CreateUserAsync(NextName("racer"));
        var connectionId = await OAuthFixture.ConnectAsync(Admin, Idp, userId, ProviderName);
        var grant = await Admin.CreateWorkspaceAsync(userId, NextName("w"));
        var channels = new[] { GrpcChannel.ForAddress(A.GrpcUrl), GrpcChannel.ForAddress(B.GrpcUrl) };
        var clients = channels.Select(c => new SidecarBroker.SidecarBrokerClient(c)).ToArray();
        var session = await clients[0].OpenSessionAsync(new OpenSessionRequest { BootstrapToken = grant.BootstrapToken });
        return new ConnectedSession(connectionId, channels, clients, new Metadata { { "authorization", "Bearer " + session.SessionToken } });
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
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
        if (Idp is not null)
        {
            await Idp.DisposeAsync();
        }
        if (Database.Length > 0)
        {
            await PostgresServer.DropDatabaseAsync(Database);
        }
        Directory.Dispose();
    }
}

internal sealed record ConnectedSession(string ConnectionId, GrpcChannel[] Channels, SidecarBroker.SidecarBrokerClient[] Clients, Metadata Auth) : IDisposable
{
    public void Dispose()
    {
        foreach (var channel in Channels)
        {
            channel.Dispose();
        }
    }
}
