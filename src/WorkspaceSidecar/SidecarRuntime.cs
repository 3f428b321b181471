using Microsoft.Extensions.Logging;
using Xares.Sidecar.Ai;
using Xares.Sidecar.Ai.Proxy;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Git;
using Xares.Sidecar.Leases;
using Xares.Sidecar.Local;
using Xares.Sidecar.Native;
using Xares.Sidecar.Sessions;

namespace Xares.Sidecar;

internal sealed record SidecarSettings(
    IReadOnlyList<Uri> Brokers,
    string BootstrapTokenFile,
    string SocketPath,
    IReadOnlyList<uint> AllowedUids,
    uint? SocketGroup,
    BrokerTransport? Transport = null);

/// <summary>
/// A running `serve`: the socket server, the broker session and its loops. Tests and
/// `xares-sidecar serve` start it the same way; disposing it stops everything and removes the socket.
/// </summary>
internal sealed class SidecarRuntime : IAsyncDisposable
{
    private readonly FailoverCallInvoker _brokers;
    private readonly LocalSocketServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private readonly HttpClient _upstream = ProxyForwarder.CreateUpstreamClient();
    private readonly Task _serving;
    private Task _fileBootstrap = Task.CompletedTask;

    private SidecarRuntime(SidecarSettings settings, ILoggerFactory loggers, TimeProvider time)
    {
        _logger = loggers.CreateLogger<SidecarRuntime>();
        BrokerUrl = settings.Brokers[0];
        SidecarLog.Starting(_logger, BrokerSession.SidecarVersion, BrokerUrl.ToString(), settings.SocketPath);
        foreach (var plaintext in settings.Brokers.Where(b => b.Scheme == Uri.UriSchemeHttp && !BrokerAddresses.IsLoopback(b)))
        {
            SidecarLog.PlaintextMesh(_logger, plaintext.GetLeftPart(UriPartial.Authority), BrokerAddresses.PlaintextMeshVariable);
        }
        var policy = new PeerPolicy(FileOwnership.CurrentUid, settings.AllowedUids);
        _server = LocalSocketServer.Bind(settings.SocketPath, settings.SocketGroup, policy, loggers.CreateLogger<LocalSocketServer>());
        _brokers = new FailoverCallInvoker(settings.Brokers, loggers.CreateLogger<FailoverCallInvoker>(), settings.Transport);
        Cache = new LeaseCache(time);
        Link = new BrokerLink();
        Session = new BrokerSession(_brokers, Cache, Link, time, loggers);
        var git = new GitCredentialService(Session, Cache, Link, time, loggers.CreateLogger<GitCredentialService>());
        var ai = new AiCredentialService(Session, Cache, Link, time, loggers.CreateLogger<AiCredentialService>());
        Ai = ai;
        Proxies = new ProxyOpener(ai, _upstream, loggers.CreateLogger<ProxyOpener>());
        Handler = new LocalRequestHandler(() => _brokers.Current, Session, git, ai, Proxies, new Connect.ConnectService(Session, Link), Cache, Link, policy, loggers.CreateLogger<LocalRequestHandler>());
        _serving = _server.RunAsync(Handler.HandleAsync, _stop.Token);
    }

    public Uri BrokerUrl { get; }

    public string SocketPath => _server.Path;

    internal LeaseCache Cache { get; }

    internal BrokerLink Link { get; }

    internal BrokerSession Session { get; }

    internal LocalRequestHandler Handler { get; }

    internal AiCredentialService Ai { get; }

    internal ProxyOpener Proxies { get; }

    /// <summary>Binds the socket and, when the bootstrap token file exists, consumes it and opens the session.</summary>
    public static SidecarRuntime Start(SidecarSettings settings, ILoggerFactory loggers, TimeProvider? time = null)
    {
        var runtime = new SidecarRuntime(settings, loggers, time ?? TimeProvider.System);
        var token = ConsumeBootstrapTokenFile(settings.BootstrapTokenFile, runtime._logger);
        if (token is null)
        {
            SidecarLog.WaitingForBootstrap(runtime._logger, settings.BootstrapTokenFile);
        }
        else
        {
            runtime._fileBootstrap = runtime.Session.BootstrapAsync(token, retryWhileUnreachable: true, runtime._stop.Token);
        }
        return runtime;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reads the token, then deletes the file at once: it must not outlive its use.</summary>
    internal static string? ConsumeBootstrapTokenFile(string path, ILogger logger)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            SidecarLog.BootstrapFileUnusable(logger, path, ex.Message);
            return null;
        }
        finally
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                SidecarLog.BootstrapFileUnusable(logger, path, $"could not delete it: {ex.Message}");
            }
        }
        var token = text.Trim();
        if (!token.StartsWith(LocalRequestHandler.BootstrapTokenPrefix, StringComparison.Ordinal))
        {
            SidecarLog.BootstrapFileUnusable(logger, path, $"it does not hold a bootstrap token ({LocalRequestHandler.BootstrapTokenPrefix}…)");
            return null;
        }
        SidecarLog.BootstrapFileConsumed(logger, path);
        return token;
    }

    public async ValueTask DisposeAsync()
    {
        SidecarLog.Stopping(_logger);
        await _stop.CancelAsync();
        await _serving;
        await _server.DisposeAsync();
        // Requests granted to the proxies and not used stay counted unless given back (bounded: a stop must not hang).
        using (var returning = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await Ai.Budget.ReturnAllAsync(returning.Token);
        }
        await Session.DisposeAsync();
        try
        {
            await _fileBootstrap;
        }
        catch (OperationCanceledException)
        {
        }
        _brokers.Dispose();
        _upstream.Dispose();
        _stop.Dispose();
    }
}
