namespace Xares.Broker.Revocations;

/// <summary>
/// In-process wake-up for the <see cref="RevocationDispatcher"/>. Only a hint: the dispatcher always
/// re-reads the durable log and also polls slowly, so a missed pulse delays nothing beyond that poll.
/// A revocation marks the signal pending; the write queue pulses it after the commit, so the woken
/// dispatcher always finds the new rows.
/// </summary>
internal sealed class RevocationSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pending;

    /// <summary>Completes at the next pulse. Take it before reading the log, so no pulse falls in between.</summary>
    public Task NextPulse => Volatile.Read(ref _next).Task;

    public void MarkPending() => Volatile.Write(ref _pending, 1);

    /// <summary>Wakes the dispatcher now (e.g. another replica committed a revocation).</summary>
    public void Pulse()
    {
        Interlocked.Exchange(ref _pending, 0);
        Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public void PulseIfPending()
    {
        if (Interlocked.Exchange(ref _pending, 0) == 1)
        {
            Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }
}
