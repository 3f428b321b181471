namespace Xares.Sidecar.Broker;

internal enum LinkState
{
    /// <summary>A session just opened and its stream is not up yet: misses still try the broker.</summary>
    Connecting,
    /// <summary>Revocation stream live and the cache revalidated since it (re)opened.</summary>
    Connected,
    /// <summary>The stream failed: cached leases are served, misses fail fast.</summary>
    Disconnected,
}

/// <summary>What the sidecar knows about its broker connection, for fail-fast decisions and status.</summary>
internal sealed class BrokerLink
{
    private readonly Lock _lock = new();
    private LinkState _state = LinkState.Disconnected;
    private string? _lastError;
    private TaskCompletionSource _reconnectRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LinkState State { get { lock (_lock) { return _state; } } }

    public string? LastError { get { lock (_lock) { return _lastError; } } }

    /// <summary>Completes when a request found the broker down and wants an early reconnect attempt.</summary>
    public Task ReconnectRequested { get { lock (_lock) { return _reconnectRequested.Task; } } }

    public void MarkConnecting()
    {
        lock (_lock)
        {
            _state = LinkState.Connecting;
        }
    }

    public void MarkConnected()
    {
        lock (_lock)
        {
            _state = LinkState.Connected;
            _lastError = null;
        }
    }

    public void MarkDisconnected(string? error)
    {
        lock (_lock)
        {
            _state = LinkState.Disconnected;
            if (error is not null)
            {
                _lastError = error;
            }
        }
    }

    public void RecordError(string error)
    {
        lock (_lock)
        {
            _lastError = error;
        }
    }

    public void RequestReconnect()
    {
        lock (_lock)
        {
            _reconnectRequested.TrySetResult();
        }
    }

    public void ClearReconnectRequest()
    {
        lock (_lock)
        {
            if (_reconnectRequested.Task.IsCompleted)
            {
                _reconnectRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }
}
