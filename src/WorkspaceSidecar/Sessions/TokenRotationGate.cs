namespace Xares.Sidecar.Sessions;

/// <summary>
/// Readers are broker calls that present the session token; the writer is a refresh.
/// Presenting a superseded token revokes the whole workspace (rule d), so no call may be
/// in flight with the old token while a refresh rotates it, and none may start during one.
/// </summary>
internal sealed class TokenRotationGate
{
    private readonly Lock _lock = new();
    private int _readers;
    private bool _writing;
    private TaskCompletionSource _writerDone = Completed();
    private TaskCompletionSource? _readersDrained;

    public async ValueTask<Pass> EnterCallAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (!_writing)
                {
                    _readers++;
                    return new Pass(this, writer: false);
                }
                wait = _writerDone.Task;
            }
            await wait.WaitAsync(cancellationToken);
        }
    }

    public async ValueTask<Pass> EnterRotationAsync(CancellationToken cancellationToken)
    {
        Task drained;
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (!_writing)
                {
                    _writing = true;
                    _writerDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    if (_readers == 0)
                    {
                        return new Pass(this, writer: true);
                    }
                    _readersDrained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    drained = _readersDrained.Task;
                    break;
                }
                wait = _writerDone.Task;
            }
            await wait.WaitAsync(cancellationToken);
        }
        try
        {
            await drained.WaitAsync(cancellationToken);
            return new Pass(this, writer: true);
        }
        catch
        {
            ExitWriter();
            throw;
        }
    }

    private void ExitReader()
    {
        lock (_lock)
        {
            _readers--;
            if (_readers == 0)
            {
                _readersDrained?.TrySetResult();
            }
        }
    }

    private void ExitWriter()
    {
        lock (_lock)
        {
            _writing = false;
            _readersDrained = null;
            _writerDone.TrySetResult();
        }
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource();
        done.SetResult();
        return done;
    }

    internal readonly struct Pass(TokenRotationGate gate, bool writer) : IDisposable
    {
        public void Dispose()
        {
            if (writer)
            {
                gate.ExitWriter();
            }
            else
            {
                gate.ExitReader();
            }
        }
    }
}
