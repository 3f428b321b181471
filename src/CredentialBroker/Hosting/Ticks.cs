namespace Xares.Broker.Hosting;

/// <summary>The loop of a background job that runs on a <see cref="PeriodicTimer"/>.</summary>
internal static class Ticks
{
    /// <summary>
    /// <see cref="PeriodicTimer.WaitForNextTickAsync"/>, with the job's work queued to the thread
    /// pool instead of run inside the timer's callback. Ticks that come while the work runs are
    /// then folded into one, as a PeriodicTimer does for any slow consumer. Run inside the
    /// callback, every tick was handled in turn: a test clock moved on by 40 days fired the
    /// 60-second checkpoint timer 57,600 times, each with its database read (two minutes of one
    /// unit test on PostgreSQL).
    /// </summary>
    public static async ValueTask<bool> NextAsync(this PeriodicTimer timer, CancellationToken cancellationToken)
    {
        var ticked = await timer.WaitForNextTickAsync(cancellationToken);
        await Task.Yield();
        return ticked;
    }
}
