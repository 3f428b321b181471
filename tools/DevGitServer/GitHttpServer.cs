using System.Collections.Concurrent;

namespace Xares.DevGitServer;

/// <summary>
/// A smart-HTTP git server that demands HTTP Basic auth, for tests and demos. Runs
/// <c>git http-backend</c> per request, so clients talk to the real thing.
/// </summary>
internal sealed class GitHttpServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly AccountGate gate;
    private readonly ConcurrentQueue<AuthAttempt> attempts;

    private GitHttpServer(WebApplication app, AccountGate gate, ConcurrentQueue<AuthAttempt> attempts, string repositoriesRoot, string baseUrl)
    {
        this.app = app;
        this.gate = gate;
        this.attempts = attempts;
        RepositoriesRoot = repositoriesRoot;
        BaseUrl = baseUrl;
    }

    /// <summary>Scheme, host and bound port without a trailing slash, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; }

    public string RepositoriesRoot { get; }

    /// <summary>Every authentication decision so far, oldest first.</summary>
    public IReadOnlyList<AuthAttempt> AuthAttempts => [.. attempts];

    public static async Task<GitHttpServer> StartAsync(GitHttpServerOptions options, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(options.RepositoriesRoot);
        Directory.CreateDirectory(root);

        // The empty builder reads no appsettings or environment and watches no files: the
        // server is configured by its options alone.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(GitHttpServer).Assembly.GetName().Name,
            ContentRootPath = root,
        });
        builder.WebHost
            .UseKestrelCore()
            // Pushes can be large; git streams them chunked.
            .ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null)
            .UseUrls(options.Url);
        options.ConfigureLogging?.Invoke(builder.Logging);

        var gate = new AccountGate(options.Accounts);
        var attempts = new ConcurrentQueue<AuthAttempt>();
        var app = builder.Build();
        var introspection = options.TokenIntrospectionUrl is { } url ? new TokenIntrospection(url, options.IntrospectionClientId, options.IntrospectionClientSecret) : null;
        var handler = new GitCgiHandler(root, options.GitExecutable, gate, attempts, TimeProvider.System, app.Services.GetRequiredService<ILogger<GitCgiHandler>>(),
            introspection);
        app.Run(handler.HandleAsync);

        await app.StartAsync(cancellationToken);
        // After start, Urls holds the bound addresses (port 0 resolved).
        var address = app.Urls.First();
        return new GitHttpServer(app, gate, attempts, root, address.TrimEnd('/'));
    }

    /// <summary>Accepts another account from now on (tests give each case its own token).</summary>
    public void AddAccount(GitAccount account) => gate.Add(account);

    /// <summary>The clone URL of a repository path such as <c>org1/app.git</c>.</summary>
    public string RepositoryUrl(string relativePath) => $"{BaseUrl}/{relativePath.TrimStart('/')}";

    /// <summary>Creates a bare repository under the root with one commit on <c>main</c>.</summary>
    public Task<string> CreateRepositoryAsync(string relativePath, CancellationToken cancellationToken = default) =>
        BareRepository.CreateAsync(RepositoriesRoot, relativePath, cancellationToken);

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
