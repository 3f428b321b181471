using System.Security.Cryptography;
using Xares.DevGitServer;
using Xares.DevKit;

namespace Xares.Bench.Helper;

/// <summary>
/// What both benchmarks measure against, set up as a platform would: the published broker, a dev
/// git server with one account, the account's token stored as a git credential, a registered
/// workspace whose published sidecar is connected, and git configured by <c>xares-sidecar install</c>.
/// </summary>
internal sealed class BenchWorkspace : IAsyncDisposable
{
    public const string GitUser = "bench";

    private readonly ScratchDirectory directory;
    private readonly BrokerProcess broker;
    private readonly AdminClient admin;
    private readonly GitHttpServer server;

    private BenchWorkspace(ScratchDirectory directory, BrokerProcess broker, AdminClient admin, GitHttpServer server,
        SidecarProcess sidecar, GitWorkspace git, string token, string repositoryUrl)
    {
        this.directory = directory;
        this.broker = broker;
        this.admin = admin;
        this.server = server;
        Sidecar = sidecar;
        Git = git;
        Token = token;
        RepositoryUrl = repositoryUrl;
    }

    public ScratchDirectory Directory => directory;

    public SidecarProcess Sidecar { get; }

    public GitWorkspace Git { get; }

    /// <summary>The git server's token: compared against, never printed.</summary>
    public string Token { get; }

    public string RepositoryUrl { get; }

    /// <summary><c>host:port</c> of the git server, as git's credential protocol names it.</summary>
    public string Host => new Uri(RepositoryUrl).Authority;

    public static async Task<BenchWorkspace> StartAsync()
    {
        var directory = ScratchDirectory.Create("xh-");
        BrokerProcess? broker = null;
        GitHttpServer? server = null;
        AdminClient? admin = null;
        SidecarProcess? sidecar = null;
        try
        {
            var token = "xbench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
            server = await GitHttpServer.StartAsync(new GitHttpServerOptions
            {
                RepositoriesRoot = directory.Sub("git-server"),
                Accounts = [new GitAccount(GitUser, token)],
            });
            await server.CreateRepositoryAsync("bench/app.git");
            var repositoryUrl = server.RepositoryUrl("bench/app.git");

            broker = await BrokerProcess.StartAsync(directory);
            admin = broker.CreateAdminClient();
            var userId = await admin.CreateUserAsync(GitUser);
            await admin.CreateGitCredentialAsync(userId, server.BaseUrl, GitUser, token);
            var grant = await admin.CreateWorkspaceAsync(userId, "bench");
            sidecar = await SidecarProcess.StartAsync(directory, broker.GrpcUrl, grant.BootstrapToken);

            var git = GitWorkspace.Create(directory, sidecar.SocketPath);
            Require(await git.InstallXaresAsync(), "xares-sidecar install");
            return new BenchWorkspace(directory, broker, admin, server, sidecar, git, token, repositoryUrl);
        }
        catch
        {
            if (sidecar is not null)
            {
                await sidecar.DisposeAsync();
            }

            admin?.Dispose();
            if (broker is not null)
            {
                await broker.DisposeAsync();
            }

            if (server is not null)
            {
                await server.DisposeAsync();
            }

            directory.Dispose();
            throw;
        }
    }

    /// <summary>A real clone through the helper: proves the chain works, and leaves the lease in the sidecar's cache.</summary>
    public async Task CloneAsync() =>
        Require(await Git.GitAsync("clone", "--quiet", RepositoryUrl, "app"), "git clone through git-credential-xares");

    public static CommandResult Require(CommandResult result, string what) =>
        result.Succeeded ? result : throw new InvalidOperationException($"{what} failed:\n{result}");

    public async ValueTask DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        admin.Dispose();
        await broker.DisposeAsync();
        await server.DisposeAsync();
        directory.Dispose();
    }
}
