using Xares.DevGitServer;

namespace Xares.EndToEnd.Tests.Infrastructure;

/// <summary>
/// One broker and two dev git servers (two hosts: different ports) per test class. Every file
/// any of them or the tests write lives under <see cref="Directory"/>, which tests scan for secrets.
/// </summary>
public sealed class XaresFixture : IAsyncLifetime
{
    private int counter;

    internal ScratchDirectory Directory { get; } = ScratchDirectory.Create();

    internal BrokerProcess Broker { get; private set; } = null!;

    internal AdminClient Admin { get; private set; } = null!;

    internal GitHttpServer GitServer { get; private set; } = null!;

    /// <summary>A second host (same address, other port) for "other host" cases.</summary>
    internal GitHttpServer OtherGitServer { get; private set; } = null!;

    /// <summary>A short name unique within this fixture (paths must stay short for sockets).</summary>
    internal string NextName(string prefix) => $"{prefix}{Interlocked.Increment(ref counter)}";

    internal Task<string> CreateUserAsync() => Admin.CreateUserAsync(NextName("user"));

    /// <summary>
    /// Gives <paramref name="server"/> a new account (limited to <paramref name="folder"/> when given)
    /// and stores the matching git credential for <paramref name="userId"/>: url is the server's base
    /// URL plus the folder. <paramref name="storedSecret"/> stores a different secret than the server expects.
    /// </summary>
    internal async Task<GitIdentity> AddGitCredentialAsync(
        string userId, GitHttpServer server, string? folder = null, string? storedSecret = null)
    {
        var username = NextName("u");
        var token = TestSecrets.NewToken();
        server.AddAccount(new GitAccount(username, token, folder is null ? null : folder + "/"));
        var url = folder is null ? server.BaseUrl : $"{server.BaseUrl}/{folder}";
        var credential = await Admin.CreateGitCredentialAsync(userId, url, username, storedSecret ?? token);
        return new GitIdentity(username, token, AdminClient.IdOf(credential));
    }

    /// <summary>Creates a repository with one commit; returns its path relative to the server root.</summary>
    internal async Task<string> CreateRepositoryAsync(GitHttpServer server, string folder = "team")
    {
        var path = $"{folder}/{NextName("repo")}.git";
        await server.CreateRepositoryAsync(path);
        return path;
    }

    /// <summary>
    /// Fails if <paramref name="secret"/> is in any file under this fixture's folder (homes, work
    /// trees, temp dirs, broker data dir, every process log) or in a temp file written since
    /// <paramref name="sinceUtc"/>.
    /// </summary>
    internal void AssertSecretOnNoDisk(string secret, DateTime sinceUtc)
    {
        var tempRoots = new[] { "/tmp", Path.GetTempPath() }.Select(p => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p))).Distinct();
        var hits = SecretScanner.FindFilesContaining(secret, [Directory.Path])
            .Concat(SecretScanner.FindFilesContaining(secret, tempRoots, sinceUtc))
            .Distinct()
            .ToList();
        Assert.True(hits.Count == 0, "Secret found in:\n" + string.Join('\n', hits));
    }

    /// <summary>Restarts the broker if a test left it stopped.</summary>
    internal async Task EnsureBrokerRunningAsync()
    {
        if (!Broker.IsRunning)
        {
            await Broker.RestartAsync();
        }
    }

    public async Task InitializeAsync()
    {
        GitServer = await GitHttpServer.StartAsync(new GitHttpServerOptions { RepositoriesRoot = Directory.Sub("git-a") });
        OtherGitServer = await GitHttpServer.StartAsync(new GitHttpServerOptions { RepositoriesRoot = Directory.Sub("git-b") });
        Broker = await BrokerProcess.StartAsync(Directory);
        Admin = Broker.CreateAdminClient();
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }

        if (GitServer is not null)
        {
            await GitServer.DisposeAsync();
        }

        if (OtherGitServer is not null)
        {
            await OtherGitServer.DisposeAsync();
        }

        Directory.Dispose();
    }
}
