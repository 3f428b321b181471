using System.Threading.Channels;
using Xares.Protos.Sidecar.V1;

namespace Xares.Sidecar.Ai.Proxy;

/// <summary>
/// Sends what the proxy counted to the sidecar (AiUsage) in the background, so no response waits
/// on it; reports arriving within a short window are summed per lease. Best effort: a failed report is dropped.
/// </summary>
internal sealed class UsageReporter
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(3);
    // Under load, one broker write per batch instead of one per request; a reached limit shows up at most this much later.
    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(200);
    private readonly Channel<AiUsageRequest> _queue = Channel.CreateUnbounded<AiUsageRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<AiUsageRequest, CancellationToken, Task<bool>> _report;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _draining = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;

    public UsageReporter(Func<AiUsageRequest, CancellationToken, Task<bool>> report)
    {
        _report = report;
        _loop = Task.Run(RunAsync);
    }

    public int Failures { get; private set; }

    public void Add(string leaseId, TokenCounts tokens) =>
        _queue.Writer.TryWrite(new AiUsageRequest { LeaseId = leaseId, Requests = 1, InputTokens = tokens.Input, OutputTokens = tokens.Output });

    /// <summary>Sends what is still queued (bounded in time), then stops.</summary>
    public async Task DrainAsync()
    {
        _queue.Writer.TryComplete();
        _draining.TrySetResult();
        _stop.CancelAfter(DrainTimeout);
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(_stop.Token))
        {
            // Gather what arrives meanwhile; the drain at the end of a run cuts the wait short.
            await Task.WhenAny(Task.Delay(BatchWindow, _stop.Token), _draining.Task);
            var batch = new Dictionary<string, AiUsageRequest>(StringComparer.Ordinal);
            while (reader.TryRead(out var usage))
            {
                if (batch.TryGetValue(usage.LeaseId, out var sum))
                {
                    sum.Requests += usage.Requests;
                    sum.InputTokens += usage.InputTokens;
                    sum.OutputTokens += usage.OutputTokens;
                }
                else
                {
                    batch[usage.LeaseId] = usage;
                }
            }
            foreach (var usage in batch.Values)
            {
                try
                {
                    await _report(usage, _stop.Token);
                }
                catch (Exception ex) when (ex is SidecarException or IOException)
                {
                    Failures++;
                }
            }
        }
    }
}
