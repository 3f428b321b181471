using Xares.Protos.Broker.V1;

namespace Xares.Sidecar.Ai.Proxy;

/// <summary>What <see cref="RequestBudget.TakeAsync"/> decided for one request.</summary>
internal enum TakeResult
{
    /// <summary>One granted request taken: forward it.</summary>
    Taken,
    /// <summary>The broker granted no more: the credential's monthly limit is reached.</summary>
    LimitReached,
    /// <summary>The lease was revoked or expired: get a new one (it comes with a first block).</summary>
    LeaseEnded,
    /// <summary>No allowance and the broker could not be asked.</summary>
    Unavailable,
}

internal readonly record struct Take(TakeResult Result, string CredentialId = "", long MonthlyLimit = 0, long UsesThisMonth = 0, string Message = "");

/// <summary>
/// The sidecar's request allowance per proxy-mode lease, granted by the broker and already counted
/// there: a proxy forwards a request only after taking one. A lease comes with a first block
/// (<see cref="Credit"/>); the next is asked for in the background when a quarter of the last ask
/// is left, so requests do not wait on the broker; the ask doubles while blocks are used up within
/// a second (up to <see cref="MaxAsk"/>) and halves when they last longer. A refusal (limit
/// reached) is remembered for <see cref="RefusalMemory"/>, so a busy tool does not turn each
/// request into a broker call and an audit record. Unused allowance goes back to the broker when
/// the last proxy closes (<see cref="ReturnAllAsync"/>).
/// </summary>
internal sealed class RequestBudget(
    Func<string, long, CancellationToken, Task<DrawAiRequestsReply>> draw,
    Func<string, long, CancellationToken, Task> giveBack,
    TimeProvider time)
{
    public const long FirstAsk = 32;
    /// <summary>The broker's largest block (AiRequestGranter.MaxBlock).</summary>
    public const long MaxAsk = 1024;
    public static readonly TimeSpan RefusalMemory = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Busy = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DrawDeadline = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Allowance> _leases = new(StringComparer.Ordinal);

    /// <summary>Requests granted with a new lease (AiLease.granted_requests).</summary>
    public void Credit(string leaseId, long granted)
    {
        if (granted <= 0)
        {
            return;
        }
        lock (_lock)
        {
            Get(leaseId).Left += granted;
        }
    }

    /// <summary>Granted requests held, per lease (for status and tests).</summary>
    public long Held(string leaseId)
    {
        lock (_lock)
        {
            return _leases.TryGetValue(leaseId, out var allowance) ? allowance.Left : 0;
        }
    }

    public async ValueTask<Take> TakeAsync(string leaseId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            Task<Take> refill;
            lock (_lock)
            {
                var allowance = Get(leaseId);
                var now = time.GetUtcNow();
                if (allowance.Left > 0)
                {
                    allowance.Left--;
                    if (allowance.Left <= allowance.Ask / 4 && allowance.Refilling is null && now >= allowance.RefusedUntil && !allowance.Ended)
                    {
                        allowance.Refilling = StartRefill(leaseId, allowance, now);
                    }
                    return new Take(TakeResult.Taken);
                }
                if (allowance.Ended)
                {
                    return new Take(TakeResult.LeaseEnded);
                }
                if (now < allowance.RefusedUntil && allowance.Refusal is { } refused)
                {
                    return refused;
                }
                refill = allowance.Refilling ??= StartRefill(leaseId, allowance, now);
            }
            var outcome = await refill.WaitAsync(cancellationToken);
            if (outcome.Result != TakeResult.Taken)
            {
                return outcome;
            }
        }
        return new Take(TakeResult.Unavailable, Message: "the broker's grants were taken by other requests faster than they came; try again");
    }

    /// <summary>Gives every lease's unused allowance back to the broker (best effort: what fails stays counted).</summary>
    public async Task ReturnAllAsync(CancellationToken cancellationToken)
    {
        List<(string LeaseId, long Unused)> unused;
        lock (_lock)
        {
            unused = [.. _leases.Where(l => l.Value.Left > 0).Select(l => (l.Key, l.Value.Left))];
            foreach (var (leaseId, _) in unused)
            {
                _leases[leaseId].Left = 0;
            }
            // Leases nobody is refilling are forgotten; a later request starts them over.
            foreach (var idle in _leases.Where(l => l.Value.Refilling is null).Select(l => l.Key).ToList())
            {
                _leases.Remove(idle);
            }
        }
        foreach (var (leaseId, count) in unused)
        {
            try
            {
                await giveBack(leaseId, count, cancellationToken);
            }
            catch (Exception ex) when (ex is SidecarException or OperationCanceledException)
            {
            }
        }
    }

    private Allowance Get(string leaseId)
    {
        if (!_leases.TryGetValue(leaseId, out var allowance))
        {
            allowance = new Allowance();
            _leases[leaseId] = allowance;
        }
        return allowance;
    }

    // Called under the lock. Runs on the thread pool, so a draw that completes at once never re-enters it.
    private Task<Take> StartRefill(string leaseId, Allowance allowance, DateTimeOffset now)
    {
        var sinceLast = now - allowance.LastRefill;
        allowance.Ask = sinceLast < Busy ? Math.Min(allowance.Ask * 2, MaxAsk)
            : sinceLast > Idle ? Math.Max(allowance.Ask / 2, FirstAsk)
            : allowance.Ask;
        var ask = allowance.Ask;
        return Task.Run(() => RefillAsync(leaseId, allowance, ask));
    }

    private async Task<Take> RefillAsync(string leaseId, Allowance allowance, long ask)
    {
        Take outcome;
        DrawAiRequestsReply? reply = null;
        try
        {
            using var deadline = new CancellationTokenSource(DrawDeadline);
            reply = await draw(leaseId, ask, deadline.Token);
            outcome = reply.Granted > 0 ? new Take(TakeResult.Taken)
                : reply.LeaseEnded ? new Take(TakeResult.LeaseEnded, reply.CredentialId)
                : new Take(TakeResult.LimitReached, reply.CredentialId, reply.MonthlyLimit, reply.UsesThisMonth);
        }
        catch (Exception ex) when (ex is SidecarException or OperationCanceledException)
        {
            outcome = new Take(TakeResult.Unavailable, Message: ex is SidecarException ? ex.Message : "the broker did not grant requests in time");
        }
        lock (_lock)
        {
            allowance.Refilling = null;
            allowance.LastRefill = time.GetUtcNow();
            if (reply is { Granted: > 0 })
            {
                allowance.Left += reply.Granted;
            }
            else if (outcome.Result == TakeResult.LimitReached)
            {
                allowance.RefusedUntil = allowance.LastRefill + RefusalMemory;
                allowance.Refusal = outcome;
            }
            else if (outcome.Result == TakeResult.LeaseEnded)
            {
                allowance.Ended = true;
            }
        }
        return outcome;
    }

    private sealed class Allowance
    {
        public long Left;
        public long Ask = FirstAsk;
        public bool Ended;
        public Task<Take>? Refilling;
        public DateTimeOffset LastRefill;
        public DateTimeOffset RefusedUntil;
        public Take? Refusal;
    }
}
