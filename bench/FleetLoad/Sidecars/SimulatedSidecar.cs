using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Xares.Bench.FleetLoad.Scenarios;
using Xares.Protos.Broker.V1;

namespace Xares.Bench.FleetLoad.Sidecars;

/// <summary>
/// One workspace sidecar as the broker sees it, on its own HTTP/2 connection: redeems its
/// bootstrap token, keeps a revocation stream open (resuming after the last sequence it saw,
/// revalidating its cached lease on every reconnect, backing off with full jitter), refreshes its
/// session token at 60 % of its lifetime, and fills a git credential when asked. Every event it
/// hears is kept with the moment it arrived, so the run can time each revocation per sidecar.
/// </summary>
internal sealed partial class SimulatedSidecar(int index, Uri broker) : IAsyncDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);
    // Redeeming commits a write; thousands at once may queue behind each other on a loaded broker.
    private static readonly TimeSpan OpenTimeout = TimeSpan.FromSeconds(60);
    private static readonly GitCredentialRequest Fill = new() { Protocol = "https", Host = FleetCredential.Host, Path = "org/repo.git" };

    private readonly GrpcChannel _channel = SidecarChannel.Create(broker, index);
    private readonly Dictionary<string, long> _heard = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _firstConnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SidecarBroker.SidecarBrokerClient? _client;
    // Calls that present the session token never overlap the refresh that rotates it, and after a
    // refresh the broker did not answer, none presents the old token until a retry settles it: the
    // broker takes a superseded token for a stolen one and revokes the workspace (as the real
    // sidecar's TokenRotationGate).
    private readonly SemaphoreSlim _tokenGate = new(1, 1);
    private readonly CancellationTokenSource _disconnect = new();
    private bool _refreshUnsettled;
    private Metadata _auth = [];
    private long _lastSequence;
    private string? _leaseId;
    private DateTimeOffset _tokenIssuedAt;
    private DateTimeOffset _tokenExpiresAt;
    private int _connected;

    public int Index => index;

    public Uri Broker => broker;

    public bool Connected => Volatile.Read(ref _connected) == 1;

    /// <summary>Stopwatch timestamp of the last time the stream was (re)opened and the lease revalidated.</summary>
    public long ConnectedAt { get; private set; }

    public int StreamsOpened { get; private set; }

    /// <summary>Completes the first time the stream is open and the cached lease revalidated.</summary>
    public Task FirstConnected => _firstConnected.Task;

    /// <summary>Events that arrived with a sequence not above the last one: a resume that re-sent or reordered.</summary>
    public int OutOfOrder { get; private set; }

    public int Refreshes { get; private set; }

    /// <summary>Why the session ended (the broker refused it, or revoked it), or null while it lives.</summary>
    public string? Ended { get; private set; }

    public string? LastError { get; private set; }

    private SidecarBroker.SidecarBrokerClient Client => _client ??= new SidecarBroker.SidecarBrokerClient(_channel);

    /// <summary>Redeems the bootstrap token; a broker that sheds the attempt (Unavailable) is tried again after a backoff.</summary>
    public async Task OpenAsync(string bootstrapToken, CancellationToken cancellationToken)
    {
        var backoff = new ReconnectBackoff();
        while (true)
        {
            try
            {
                var grant = await Client.OpenSessionAsync(new OpenSessionRequest { BootstrapToken = bootstrapToken, SidecarVersion = "fleet-load" },
                    deadline: DateTime.UtcNow + OpenTimeout, cancellationToken: cancellationToken);
                _lastSequence = grant.RevocationSequence;
                Apply(grant);
                return;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.ResourceExhausted && !cancellationToken.IsCancellationRequested)
            {
                // Refused before any work: the single-use token was not spent.
                LastError = $"open: {ex.StatusCode}: {ex.Status.Detail}";
                await Task.Delay(backoff.Next(ex), cancellationToken);
            }
        }
    }

    /// <summary>The revocation stream and the token refresh, until <paramref name="cancellationToken"/> or the session ends.</summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        var lifetime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disconnect.Token).Token;
        return Task.WhenAll(WatchAsync(lifetime), RefreshAsync(lifetime));
    }

    /// <summary>Closes the stream and stops refreshing, as a workspace that went away without ending its session.</summary>
    public Task DisconnectAsync() => _disconnect.CancelAsync();

    /// <summary>One `git credential fill` that misses the cache: a lease from the broker, kept as the cached one.</summary>
    public async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        var reply = await WithTokenAsync(auth => Client.GetGitCredentialAsync(Fill, auth, DateTime.UtcNow + CallTimeout, cancellationToken).ResponseAsync, cancellationToken);
        if (reply.ResultCase != GitCredentialReply.ResultOneofCase.Lease)
        {
            return false;
        }
        _leaseId = reply.Lease.LeaseId;
        return true;
    }

    /// <summary>When (Stopwatch timestamp) the event for <paramref name="targetId"/> arrived, if it did.</summary>
    public bool Heard(string targetId, out long arrivedAt)
    {
        lock (_lock)
        {
            return _heard.TryGetValue(targetId, out arrivedAt);
        }
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        var backoff = new ReconnectBackoff();
        while (!cancellationToken.IsCancellationRequested && Ended is null)
        {
            Exception? failure = null;
            try
            {
                using var stream = await WithTokenAsync(async auth =>
                {
                    var call = Client.WatchRevocations(new WatchRevocationsRequest { AfterSequence = _lastSequence }, auth, cancellationToken: cancellationToken);
                    try
                    {
                        // The broker sends the headers once the stream is set up (a shed stream
                        // fails here with its status), then, as the real sidecar, the cached lease
                        // is served again only once the broker confirmed it.
                        await call.ResponseHeadersAsync;
                        var held = _leaseId;
                        var valid = await Client.ValidateLeasesAsync(new ValidateLeasesRequest { LeaseIds = { held is null ? [] : [held] } },
                            auth, DateTime.UtcNow + CallTimeout, cancellationToken);
                        if (held is not null && !valid.ValidLeaseIds.Contains(held))
                        {
                            _leaseId = null;
                        }
                        return call;
                    }
                    catch
                    {
                        call.Dispose();
                        throw;
                    }
                }, cancellationToken);
                ConnectedAt = Stopwatch.GetTimestamp();
                StreamsOpened++;
                Volatile.Write(ref _connected, 1);
                _firstConnected.TrySetResult();
                backoff.Reset();
                await foreach (var revocation in stream.ResponseStream.ReadAllAsync(cancellationToken))
                {
                    Record(revocation);
                }
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                Volatile.Write(ref _connected, 0);
                return;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
            {
                Ended = $"the broker refused the session ({ex.StatusCode})";
            }
            catch (Exception ex)
            {
                failure = ex;
                LastError = ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message;
            }
            Volatile.Write(ref _connected, 0);
            if (Ended is null)
            {
                await Task.Delay(backoff.Next(failure), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task<T> WithTokenAsync<T>(Func<Metadata, Task<T>> call, CancellationToken cancellationToken)
    {
        await _tokenGate.WaitAsync(cancellationToken);
        try
        {
            return _refreshUnsettled
                ? throw new RpcException(new Status(StatusCode.Unavailable, "the session token is being renewed; retrying shortly"))
                : await call(_auth);
        }
        finally
        {
            _tokenGate.Release();
        }
    }

    private void Record(RevocationEvent revocation)
    {
        var arrivedAt = Stopwatch.GetTimestamp();
        if (revocation.Sequence <= _lastSequence)
        {
            OutOfOrder++;
        }
        _lastSequence = Math.Max(_lastSequence, revocation.Sequence);
        lock (_lock)
        {
            _heard.TryAdd(revocation.TargetId, arrivedAt);
        }
        if (revocation.Kind is RevocationEvent.Types.Kind.Credential && _leaseId is not null)
        {
            _leaseId = null; // the only credential the fleet's leases come from
        }
        if (revocation.Kind is RevocationEvent.Types.Kind.Session or RevocationEvent.Types.Kind.Workspace)
        {
            Ended = $"the broker revoked the {revocation.Kind} (revocation {revocation.Sequence})";
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        _tokenGate.Dispose();
        await Task.CompletedTask;
    }
}
