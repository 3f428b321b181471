using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Xares.Sidecar.Broker;

/// <summary>
/// Calls one broker replica at a time out of several (`--broker URL1,URL2`) and moves to the next
/// when the current one stops answering. Sessions live in the brokers' shared database, so the
/// same session token works on every replica: failing over keeps the session and the cache.
/// A unary call that finds its replica unavailable is retried at once on the next one (each
/// replica at most once), so git keeps working through a failover; a broken revocation stream
/// moves the invoker on, and the watcher's reconnect lands on the next replica.
/// </summary>
internal sealed partial class FailoverCallInvoker : CallInvoker, IDisposable
{
    private readonly Replica[] _replicas;
    private readonly ILogger _logger;
    private int _current;

    public FailoverCallInvoker(IReadOnlyList<Uri> brokers, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfZero(brokers.Count);
        _replicas = brokers.Select(uri => new Replica(uri, BrokerChannel.Create(uri))).ToArray();
        _logger = logger;
    }

    /// <summary>The replica calls go to now.</summary>
    public Uri Current => _replicas[Volatile.Read(ref _current)].Address;

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        var index = Volatile.Read(ref _current);
        var first = _replicas[index].Invoker.AsyncUnaryCall(method, host, options, request);
        if (_replicas.Length == 1)
        {
            return first;
        }
        var attempt = new UnaryAttempt<TResponse>(first);
        var response = CallWithFailoverAsync(attempt, index, method, host, options, request);
        return new AsyncUnaryCall<TResponse>(response, attempt.HeadersAsync(response), attempt.GetStatus, attempt.GetTrailers, attempt.Dispose);
    }

    private async Task<TResponse> CallWithFailoverAsync<TRequest, TResponse>(UnaryAttempt<TResponse> attempt, int index,
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        where TRequest : class where TResponse : class
    {
        for (var tried = 1; ; tried++)
        {
            try
            {
                return await attempt.Call.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex) when (IsReplicaDown(ex) && !options.CancellationToken.IsCancellationRequested)
            {
                index = MoveOn(index, ex);
                // Deadline spent, or every replica tried once: report the failure.
                if (!(ex.StatusCode == StatusCode.Unavailable || IsTransportFailure(ex)) || tried >= _replicas.Length)
                {
                    throw;
                }
                attempt.Replace(_replicas[index].Invoker.AsyncUnaryCall(method, host, options, request));
            }
        }
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        var index = Volatile.Read(ref _current);
        var call = _replicas[index].Invoker.AsyncServerStreamingCall(method, host, options, request);
        if (_replicas.Length == 1)
        {
            return call;
        }
        return new AsyncServerStreamingCall<TResponse>(new WatchedReader<TResponse>(call.ResponseStream, ex => MoveOn(index, ex)),
            WatchedHeadersAsync(call.ResponseHeadersAsync, index), call.GetStatus, call.GetTrailers, call.Dispose);
    }

    /// <summary>The watcher waits for a stream's headers before anything else: a replica found down there moves the invoker on too.</summary>
    private async Task<Metadata> WatchedHeadersAsync(Task<Metadata> headers, int index)
    {
        try
        {
            return await headers.ConfigureAwait(false);
        }
        catch (RpcException ex) when (IsReplicaDown(ex))
        {
            MoveOn(index, ex);
            throw;
        }
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        AsyncUnaryCall(method, host, options, request).ResponseAsync.GetAwaiter().GetResult();

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        _replicas[Volatile.Read(ref _current)].Invoker.AsyncClientStreamingCall(method, host, options);

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        _replicas[Volatile.Read(ref _current)].Invoker.AsyncDuplexStreamingCall(method, host, options);

    private static bool IsReplicaDown(RpcException ex) =>
        ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded || IsTransportFailure(ex);

    // A replica shutting down closes its connections (GOAWAY) under calls just starting: the
    // request never reached it, so it is as safe to retry elsewhere as a refused connection.
    private static bool IsTransportFailure(RpcException ex) =>
        ex.StatusCode == StatusCode.Internal && ex.Status.DebugException is HttpRequestException;

    /// <summary>Moves past the replica at <paramref name="failed"/> unless another call already did; returns the replica to use now.</summary>
    private int MoveOn(int failed, RpcException ex)
    {
        var next = (failed + 1) % _replicas.Length;
        if (Interlocked.CompareExchange(ref _current, next, failed) == failed)
        {
            LogFailover(_logger, _replicas[failed].Address.ToString(), _replicas[next].Address.ToString(), RpcFailures.Describe(ex));
        }
        return Volatile.Read(ref _current);
    }

    public void Dispose()
    {
        foreach (var replica in _replicas)
        {
            replica.Channel.Dispose();
        }
    }

    [LoggerMessage(110, LogLevel.Warning, "broker {FailedBroker} is not answering ({Reason}); failing over to {NextBroker}")]
    private static partial void LogFailover(ILogger logger, string failedBroker, string nextBroker, string reason);

    private sealed record Replica(Uri Address, GrpcChannel Channel)
    {
        public CallInvoker Invoker { get; } = Channel.CreateCallInvoker();
    }

    /// <summary>The call behind a failover-aware unary call: whichever attempt is current.</summary>
    private sealed class UnaryAttempt<TResponse>(AsyncUnaryCall<TResponse> first)
    {
        private AsyncUnaryCall<TResponse> _call = first;

        public AsyncUnaryCall<TResponse> Call => Volatile.Read(ref _call);

        public void Replace(AsyncUnaryCall<TResponse> next)
        {
            Interlocked.Exchange(ref _call, next).Dispose();
        }

        /// <summary>The headers of the attempt that settled the call (available once it has).</summary>
        public async Task<Metadata> HeadersAsync(Task response)
        {
            try
            {
                await response.ConfigureAwait(false);
            }
            catch (RpcException)
            {
            }
            return await Call.ResponseHeadersAsync.ConfigureAwait(false);
        }

        public Status GetStatus() => Call.GetStatus();

        public Metadata GetTrailers() => Call.GetTrailers();

        public void Dispose() => Call.Dispose();
    }

    /// <summary>A stream reader that reports a replica going away, so the next stream goes elsewhere.</summary>
    private sealed class WatchedReader<T>(IAsyncStreamReader<T> inner, Action<RpcException> replicaDown) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            try
            {
                return await inner.MoveNext(cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (IsReplicaDown(ex) && !cancellationToken.IsCancellationRequested)
            {
                replicaDown(ex);
                throw;
            }
        }
    }
}
