using Grpc.Core;
using Xares.Sidecar.Broker;

namespace Xares.Sidecar.Tests.Broker;

public sealed class BackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Floor = TimeSpan.FromMilliseconds(50);

    [Fact]
    public void Next_EachAttempt_DrawsWithinFloorAndTheDoublingCappedWindow()
    {
        var backoff = new Backoff(Initial, Cap, Floor, new Random(18));

        for (var attempt = 0; attempt < 12; attempt++)
        {
            var window = Math.Min(Cap.TotalMilliseconds, Initial.TotalMilliseconds * Math.Pow(2, attempt));
            Assert.Equal(window, backoff.Ceiling.TotalMilliseconds);
            Assert.InRange(backoff.Next().TotalMilliseconds, Floor.TotalMilliseconds, window);
        }
        Assert.Equal(Cap, backoff.Ceiling);
    }

    [Fact]
    public void Next_AtTheCap_IsSpreadOverTheWholeWindow_NotItsUpperHalf()
    {
        var backoff = new Backoff(Initial, Cap, Floor, new Random(42));
        while (backoff.Ceiling < Cap)
        {
            backoff.Next();
        }

        var draws = Enumerable.Range(0, 10_000).Select(_ => backoff.Next().TotalMilliseconds).ToList();

        // Full jitter: uniform over [floor, cap], so a tenth of the window holds about a tenth of the draws.
        var width = Cap.TotalMilliseconds - Floor.TotalMilliseconds;
        Assert.InRange(draws.Average(), Floor.TotalMilliseconds + (width * 0.48), Floor.TotalMilliseconds + (width * 0.52));
        for (var tenth = 0; tenth < 10; tenth++)
        {
            var low = Floor.TotalMilliseconds + (width * tenth / 10);
            var share = draws.Count(d => d >= low && d < low + (width / 10)) / (double)draws.Count;
            Assert.InRange(share, 0.08, 0.12);
        }
        Assert.Contains(draws, d => d < Cap.TotalMilliseconds / 2);
    }

    [Fact]
    public void Next_WindowBelowTheFloor_WaitsTheFloor()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(10), Cap, TimeSpan.FromMilliseconds(250), new Random(1));

        Assert.Equal(TimeSpan.FromMilliseconds(250), backoff.Next());
        Assert.Equal(TimeSpan.FromMilliseconds(250), backoff.Next());
    }

    [Fact]
    public void Next_WithoutExplicitFloor_NeverWaitsLessThanTheFirstStep()
    {
        var backoff = new Backoff(Initial, Cap);

        Assert.All(Enumerable.Range(0, 50).Select(_ => backoff.Next()), d => Assert.InRange(d, Initial, Cap));
    }

    [Fact]
    public void Reset_StartsTheWindowOver()
    {
        var backoff = new Backoff(Initial, Cap, Floor, new Random(7));
        for (var i = 0; i < 6; i++)
        {
            backoff.Next();
        }

        backoff.Reset();

        Assert.Equal(Initial, backoff.Ceiling);
        Assert.InRange(backoff.Next(), Floor, Initial);
    }

    [Fact]
    public void NextWithHint_WaitsAtLeastTheHint_PlusTheJitteredBackoff()
    {
        var hint = TimeSpan.FromSeconds(2);
        var backoff = new Backoff(Initial, Cap, Floor, new Random(3));

        for (var attempt = 0; attempt < 8; attempt++)
        {
            var window = backoff.Ceiling;
            Assert.InRange(backoff.Next(hint), hint + Floor, hint + window);
        }
    }

    [Fact]
    public void NextWithoutHint_IsThePlainBackoff()
    {
        var withNull = new Backoff(Initial, Cap, Floor, new Random(5));
        var plain = new Backoff(Initial, Cap, Floor, new Random(5));

        Assert.Equal(plain.Next(), withNull.Next(null));
        Assert.Equal(plain.Next(), withNull.Next(TimeSpan.Zero));
    }

    [Theory]
    [InlineData("1500", 1500)]
    [InlineData("600000", 60_000)] // capped: a broken hint must not silence the sidecar for long
    public void RetryHint_FromTheTrailer(string value, int expectedMilliseconds)
    {
        var shed = new RpcException(new Status(StatusCode.Unavailable, "busy"), new Metadata { { RpcFailures.RetryAfterTrailer, value } });

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), RpcFailures.RetryHint(shed));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-5")]
    [InlineData("0")]
    public void RetryHint_AbsentOrNotAPositiveNumber_IsNone(string? value)
    {
        var trailers = value is null ? Metadata.Empty : new Metadata { { RpcFailures.RetryAfterTrailer, value } };

        Assert.Null(RpcFailures.RetryHint(new RpcException(new Status(StatusCode.Unavailable, "down"), trailers)));
    }
}
