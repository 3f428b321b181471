using Grpc.Core;
using Microsoft.Extensions.Logging;
using Xares.Protos.Broker.V1;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Leases;
using Xares.Sidecar.Revocations;

namespace Xares.Sidecar.Sessions;

/// <summary>
/// The workspace's session with the broker: opens it from a bootstrap token, refreshes its
/// token, puts it on every call, and ends it (dropping every cached lease) when the broker
/// says it is gone. The token lives in this process's memory only.
/// </summary>
internal sealed class BrokerSession : IAsyncDisposable
{
    public static readonly string SidecarVersion = typeof(BrokerSession).Assembly.GetName().Version?.ToString() ?? "0";
    private static readonly TimeSpan OpenTimeout = TimeSpan.FromSeconds(10);

    private readonly SidecarBroker.SidecarBrokerClient _client;
    private readonly LeaseCache _cache;
    private readonly BrokerLink _link;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TokenRotationGate _gate = new();
    private readonly SemaphoreSlim _bootstrapLock = new(1, 1);
    private readonly SessionRefresher _refresher;
    private readonly RevocationWatcher _watcher;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Lock _lock = new();
    private SessionScope? _scope;
    private Task _loops = Task.CompletedTask;
    private CancellationTokenSource? _pendingBootstrap;

    public BrokerSession(CallInvoker broker, LeaseCache cache, BrokerLink link, TimeProvider time, ILoggerFactory loggers)
    {
        _client = new SidecarBroker.SidecarBrokerClient(broker);
        _cache = cache;
        _link = link;
        _time = time;
        _logger = loggers.CreateLogger<BrokerSession>();
        _refresher = new SessionRefresher(this, _client, _gate, link, time, _logger);
        _watcher = new RevocationWatcher(this, cache, link, time, loggers.CreateLogger<RevocationWatcher>());
    }

    public SessionScope? Current { get { lock (_lock) { return _scope; } } }

    /// <summary>
    /// Redeems a bootstrap token. A newer bootstrap cancels one still retrying; a session that
    /// is live stays until the new one is granted. With <paramref name="retryWhileUnreachable"/>
    /// (a token read from a file: nobody else holds it) it retries until the broker answers.
    /// </summary>
    public async Task<BootstrapOutcome> BootstrapAsync(string bootstrapToken, bool retryWhileUnreachable, CancellationToken cancellationToken)
    {
        CancellationTokenSource attempt;
        lock (_lock)
        {
            _pendingBootstrap?.Cancel();
            attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
            _pendingBootstrap = attempt;
        }
        try
        {
            await _bootstrapLock.WaitAsync(attempt.Token);
            try
            {
                return await OpenAsync(bootstrapToken, retryWhileUnreachable, attempt.Token);
            }
            finally
            {
                _bootstrapLock.Release();
            }
        }
        catch (OperationCanceledException) when (attempt.IsCancellationRequested && !cancellationToken.IsCancellationRequested && !_shutdown.IsCancellationRequested)
        {
            SidecarLog.BootstrapSuperseded(_logger);
            return new BootstrapOutcome(false, "superseded by a newer bootstrap");
        }
        finally
        {
            lock (_lock)
            {
                if (_pendingBootstrap == attempt)
                {
                    _pendingBootstrap = null;
                }
                attempt.Dispose();
            }
        }
    }

    private async Task<BootstrapOutcome> OpenAsync(string bootstrapToken, bool retryWhileUnreachable, CancellationToken cancellationToken)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));
        while (true)
        {
            try
            {
                var request = new OpenSessionRequest { BootstrapToken = bootstrapToken, SidecarVersion = SidecarVersion };
                var grant = await _client.OpenSessionAsync(request, new CallOptions(deadline: DateTime.UtcNow + OpenTimeout, cancellationToken: cancellationToken));
                Install(grant);
                return new BootstrapOutcome(true, $"session opened for workspace {grant.WorkspaceId}");
            }
            catch (RpcException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            // A shed open (the broker says when to come back) did nothing, so it is retried even for a
            // token handed over the socket, whose sender is waiting for the answer.
            catch (RpcException ex) when ((retryWhileUnreachable && RpcFailures.IsTransient(ex)) || RpcFailures.RetryHint(ex) is not null)
            {
                var description = RpcFailures.Describe(ex);
                _link.RecordError(description);
                SidecarLog.BootstrapRetrying(_logger, description);
                await Task.Delay(backoff.Next(RpcFailures.RetryHint(ex)), _time, cancellationToken);
            }
            catch (RpcException ex)
            {
                var description = RpcFailures.Describe(ex);
                _link.RecordError($"bootstrap failed: {description}");
                SidecarLog.BootstrapRefused(_logger, description);
                return new BootstrapOutcome(false, $"the broker did not open a session: {description}");
            }
        }
    }

    private void Install(SessionGrant grant)
    {
        var scope = new SessionScope(grant, _time.GetUtcNow());
        SessionScope? previous;
        lock (_lock)
        {
            previous = _scope;
            _scope = scope;
        }
        previous?.End();
        var dropped = _cache.Clear();
        _link.MarkConnecting();
        SidecarLog.SessionOpened(_logger, grant.SessionId, grant.WorkspaceId, scope.Snapshot.TokenExpiresAt, scope.RevocationSequence, dropped);
        var loops = Task.WhenAll(_refresher.RunAsync(scope), _watcher.RunAsync(scope));
        lock (_lock)
        {
            _loops = loops;
        }
    }

    /// <summary>Ends <paramref name="scope"/> if it is still the live session: drops every cached lease.</summary>
    public void End(SessionScope scope, string reason)
    {
        int dropped;
        lock (_lock)
        {
            if (_scope != scope)
            {
                return;
            }
            // Under the lock: whoever sees no session also sees no cached lease and a link that
            // says why.
            dropped = _cache.Clear();
            _link.MarkDisconnected(reason);
            _scope = null;
        }
        scope.End();
        SidecarLog.SessionEnded(_logger, scope.Snapshot.SessionId, reason, dropped);
    }

    /// <summary>A unary broker call with the session token and a deadline.</summary>
    public Task<TResponse> CallAsync<TResponse>(
        Func<SidecarBroker.SidecarBrokerClient, CallOptions, AsyncUnaryCall<TResponse>> call,
        TimeSpan timeout,
        CancellationToken cancellationToken) =>
        WithTokenAsync(null, async (client, headers, token) =>
            await call(client, new CallOptions(headers, DateTime.UtcNow + timeout, token)), cancellationToken);

    /// <summary>
    /// Runs broker calls that present the session token; a token refresh waits until they are done.
    /// With <paramref name="expected"/>, only while that session is still the live one.
    /// </summary>
    public async Task<T> WithTokenAsync<T>(
        SessionScope? expected,
        Func<SidecarBroker.SidecarBrokerClient, Metadata, CancellationToken, Task<T>> action,
        CancellationToken cancellationToken)
    {
        using var pass = await _gate.EnterCallAsync(cancellationToken);
        var scope = Current;
        if (scope is null || (expected is not null && scope != expected))
        {
            throw new NoSessionException();
        }
        if (scope.UnsettledRefreshKey is not null)
        {
            throw new RpcException(new Status(StatusCode.Unavailable,
                "the session token is being renewed (the broker did not answer the last refresh); retrying shortly"));
        }
        try
        {
            return await action(_client, Bearer(scope.Token), cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
        {
            End(scope, $"the broker no longer accepts the session token ({RpcFailures.Describe(ex)})");
            throw;
        }
    }

    internal static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    public async ValueTask DisposeAsync()
    {
        Task loops;
        lock (_lock)
        {
            _scope?.End();
            _scope = null;
            loops = _loops;
        }
        await _shutdown.CancelAsync();
        try
        {
            await loops.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or RpcException)
        {
        }
        _shutdown.Dispose();
        _bootstrapLock.Dispose();
    }
}
