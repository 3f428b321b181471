using System.Net.Http.Json;
using Grpc.Core;
using Xares.Protos.Broker.V1;

namespace Xares.Broker.Tests.Support;

/// <summary>A test stand-in for one workspace's sidecar: a workspace, its session, and calls with its token.</summary>
internal sealed class SidecarClient(BrokerTestHost host, string workspaceId, string bootstrapToken)
{
    public SidecarBroker.SidecarBrokerClient Grpc { get; } = new(host.GrpcChannel);

    public string WorkspaceId { get; } = workspaceId;

    public string BootstrapToken { get; } = bootstrapToken;

    public SessionGrant? Grant { get; private set; }

    public Metadata Auth => new() { { "authorization", $"Bearer {Grant!.SessionToken}" } };

    /// <param name="repositories">The workspace's repositories ({host, name, access} objects), for minted tokens.</param>
    public static async Task<SidecarClient> CreateWorkspaceAsync(BrokerTestHost host, string userId, IReadOnlyList<string>? allowedHosts = null,
        object? repositories = null)
    {
        var response = await host.Admin.PostAsJsonAsync("/api/v1/workspaces", new { userId, name = "ws", allowedHosts, repositories });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<CreatedWorkspace>();
        return new SidecarClient(host, body!.Id, body.BootstrapToken);
    }

    public async Task<SidecarClient> OpenAsync()
    {
        Grant = await Grpc.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = BootstrapToken });
        return this;
    }

    public async Task<GitCredentialReply> GetAsync(string protocol, string host, string path = "", string username = "") =>
        await Grpc.GetGitCredentialAsync(new GitCredentialRequest { Protocol = protocol, Host = host, Path = path, Username = username }, Auth);

    public async Task<SessionGrant> RefreshAsync()
    {
        Grant = await Grpc.RefreshSessionAsync(new RefreshSessionRequest(), Auth);
        return Grant;
    }

    private sealed record CreatedWorkspace(string Id, string BootstrapToken);
}
