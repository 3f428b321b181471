using Microsoft.Extensions.Time.Testing;
using Xares.Protos.Broker.V1;
using Xares.Sidecar.Ai.Proxy;
using Xares.Sidecar.Tests.Fakes;

namespace Xares.Sidecar.Tests.Ai.Proxy;

/// <summary>The proxies' request allowance: only granted requests are taken; refills, refusals and returns.</summary>
public sealed class RequestBudgetTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly List<(string LeaseId, long Requests)> _draws = [];
    private readonly List<(string LeaseId, long Unused)> _returns = [];
    private Func<long, DrawAiRequestsReply> _broker = n => new DrawAiRequestsReply { Granted = n, CredentialId = "cred_1" };

    private RequestBudget Budget() => new(
        (lease, n, _) =>
        {
            lock (_draws)
            {
                _draws.Add((lease, n));
            }
            return Task.FromResult(_broker(n));
        },
        (lease, n, _) =>
        {
            _returns.Add((lease, n));
            return Task.CompletedTask;
        },
        _time);

    // Refills run in the background: read what they recorded under the same lock.
    private List<(string LeaseId, long Requests)> Draws()
    {
        lock (_draws)
        {
            return [.. _draws];
        }
    }

    [Fact]
    public async Task Take_CreditedAllowance_TakenWithoutAskingUntilLow_ThenRefilledAhead()
    {
        var budget = Budget();
        budget.Credit("lease_1", 32);

        for (var i = 0; i < 23; i++)
        {
            Assert.Equal(TakeResult.Taken, (await budget.TakeAsync("lease_1", CancellationToken.None)).Result);
        }
        Assert.Empty(_draws);
        Assert.Equal(TakeResult.Taken, (await budget.TakeAsync("lease_1", CancellationToken.None)).Result); // 8 left: a quarter
        await Until.TrueAsync(() => budget.Held("lease_1") > 8, what: "the background refill");
        Assert.Equal(("lease_1", RequestBudget.FirstAsk), Assert.Single(Draws()));
        Assert.Equal(8 + RequestBudget.FirstAsk, budget.Held("lease_1"));
    }

    [Fact]
    public async Task Take_NoAllowance_AsksAndWaits_BusyAsksGrowToTheCap()
    {
        var budget = Budget();
        for (var i = 0; i < 4000; i++)
        {
            Assert.Equal(TakeResult.Taken, (await budget.TakeAsync("lease_1", CancellationToken.None)).Result);
        }
        await Until.TrueAsync(() => budget.Held("lease_1") > 0, what: "the last refill");

        var draws = Draws();
        Assert.Equal(RequestBudget.MaxAsk, draws.Max(d => d.Requests));
        Assert.All(draws, d => Assert.InRange(d.Requests, 1, RequestBudget.MaxAsk));
        Assert.True(draws.Sum(d => d.Requests) >= 4000);
    }

    [Fact]
    public async Task Take_LimitReached_RefusalRememberedBriefly_ThenAskedAgain()
    {
        _broker = _ => new DrawAiRequestsReply { Granted = 0, LimitReached = true, CredentialId = "cred_1", MonthlyLimit = 5, UsesThisMonth = 5 };
        var budget = Budget();

        var refused = await budget.TakeAsync("lease_1", CancellationToken.None);
        var again = await budget.TakeAsync("lease_1", CancellationToken.None);
        _time.Advance(RequestBudget.RefusalMemory);
        await budget.TakeAsync("lease_1", CancellationToken.None);

        Assert.Equal(new Take(TakeResult.LimitReached, "cred_1", 5, 5), refused);
        Assert.Equal(refused, again);
        Assert.Equal(2, Draws().Count);
    }

    [Fact]
    public async Task Take_LeaseEnded_Said()
    {
        _broker = _ => new DrawAiRequestsReply { LeaseEnded = true, CredentialId = "cred_1" };
        var budget = Budget();

        Assert.Equal(TakeResult.LeaseEnded, (await budget.TakeAsync("lease_1", CancellationToken.None)).Result);
        Assert.Equal(TakeResult.LeaseEnded, (await budget.TakeAsync("lease_1", CancellationToken.None)).Result);
        Assert.Single(Draws());
    }

    [Fact]
    public async Task Take_BrokerUnavailable_NotTaken()
    {
        _broker = _ => throw new SidecarException("the broker is unreachable");
        var budget = Budget();

        var take = await budget.TakeAsync("lease_1", CancellationToken.None);

        Assert.Equal(TakeResult.Unavailable, take.Result);
        Assert.Contains("unreachable", take.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReturnAll_GivesBackWhatWasNotTaken_Once()
    {
        var budget = Budget();
        budget.Credit("lease_1", 32);
        budget.Credit("lease_2", 4);
        await budget.TakeAsync("lease_1", CancellationToken.None);

        await budget.ReturnAllAsync(CancellationToken.None);
        await budget.ReturnAllAsync(CancellationToken.None);

        Assert.Equal([("lease_1", 31L), ("lease_2", 4L)], _returns.OrderBy(r => r.LeaseId));
        Assert.Equal(0, budget.Held("lease_1"));
    }
}
