using System.Text.Json;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>A bootstrap token is single-use (rule d): a second sidecar presenting it gets no session.</summary>
public sealed class BootstrapTests(XaresFixture fixture) : IClassFixture<XaresFixture>
{
    [Fact]
    public async Task Serve_BootstrapTokenReused_SecondSidecarNeverConnects()
    {
        var userId = await fixture.CreateUserAsync();
        var grant = await fixture.Admin.CreateWorkspaceAsync(userId, fixture.NextName("w"));
        await using var first = await SidecarProcess.StartAsync(fixture.Directory, fixture.Broker.GrpcUrl, grant.BootstrapToken, fixture.NextName("sc"));

        await using var second = await SidecarProcess.StartAsync(
            fixture.Directory, fixture.Broker.GrpcUrl, grant.BootstrapToken, fixture.NextName("sc"), waitUntilConnected: false);
        var connected = await Poll.UntilAsync(async () => !second.HasExited && await second.IsConnectedAsync(), TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(200));

        Assert.False(connected, "A second sidecar redeemed a used bootstrap token.\n" + second.LogTail());
        var workspace = (await fixture.Admin.ListWorkspacesAsync()).Single(w => AdminClient.IdOf(w) == grant.Id);
        Assert.Equal(1, SessionCountOf(workspace));
    }

    // §6 lists workspaces but names no session field; a count or a list under these names is accepted.
    private static int SessionCountOf(JsonElement workspace)
    {
        foreach (var name in new[] { "activeSessions", "sessions", "sessionCount" })
        {
            if (workspace.TryGetProperty(name, out var value))
            {
                switch (value.ValueKind)
                {
                    case JsonValueKind.Array:
                        return value.GetArrayLength();
                    case JsonValueKind.Number:
                        return value.GetInt32();
                }
            }
        }

        Assert.Fail("GET /api/v1/workspaces shows no sessions (expected activeSessions, sessions or sessionCount): " + workspace.GetRawText());
        return -1;
    }
}
