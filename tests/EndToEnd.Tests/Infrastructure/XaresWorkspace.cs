namespace Xares.EndToEnd.Tests.Infrastructure;

/// <summary>
/// One registered workspace as a user meets it: a sidecar redeemed its bootstrap token, and
/// git in an isolated HOME is configured by <c>xares-sidecar install</c>.
/// </summary>
internal sealed class XaresWorkspace : IAsyncDisposable
{
    private XaresWorkspace(WorkspaceGrant grant, SidecarProcess sidecar, GitWorkspace git)
    {
        Grant = grant;
        Sidecar = sidecar;
        Git = git;
    }

    public WorkspaceGrant Grant { get; }

    public string Id => Grant.Id;

    public SidecarProcess Sidecar { get; }

    public GitWorkspace Git { get; }

    /// <summary>
    /// Registers a workspace for <paramref name="userId"/> and starts its sidecar. Install runs after
    /// the user's credentials exist (it configures git per served host), unless <paramref name="install"/>
    /// is false; <paramref name="prepareHome"/> lets a test shape the user's git config first.
    /// </summary>
    public static async Task<XaresWorkspace> StartAsync(XaresFixture fixture, string userId, bool install = true, Func<GitWorkspace, Task>? prepareHome = null)
    {
        var name = fixture.NextName("w");
        var grant = await fixture.Admin.CreateWorkspaceAsync(userId, name);
        var sidecar = await SidecarProcess.StartAsync(fixture.Directory, fixture.Broker.GrpcUrl, grant.BootstrapToken, name + "-sc");
        try
        {
            var git = GitWorkspace.Create(fixture.Directory, sidecar.SocketPath, name);
            if (prepareHome is not null)
            {
                await prepareHome(git);
            }

            if (install)
            {
                await git.InstallXaresAsync().ShouldSucceedAsync();
            }

            return new XaresWorkspace(grant, sidecar, git);
        }
        catch
        {
            await sidecar.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => Sidecar.DisposeAsync();
}
