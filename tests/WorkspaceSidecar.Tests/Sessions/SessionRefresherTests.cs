using Xares.Sidecar.Sessions;
using Xares.Sidecar.Tests.Fakes;

namespace Xares.Sidecar.Tests.Sessions;

public sealed class SessionRefresherTests
{
    [Fact]
    public async Task Refresh_ShortLivedToken_RotatesBeforeExpiryAndNeverReusesTheOldOne()
    {
        await using var broker = await StartBrokerAsync();
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        var firstExpiry = sidecar.Runtime.Session.Current!.Snapshot.TokenExpiresAt;

        // Keep calling while refreshes happen: no call may present a superseded token.
        var calls = CallUntilSecondRefreshAsync(broker, sidecar);
        await broker.State.WaitForAsync(s => s.RefreshCalls >= 1, firstExpiry - DateTimeOffset.UtcNow);
        await broker.State.WaitForAsync(s => s.RefreshCalls >= 2, TimeSpan.FromSeconds(5));
        await calls;

        Assert.Equal(3, broker.State.IssuedTokens.Count);
        Assert.Equal(0, broker.State.SupersededTokenPresentations);
        Assert.NotNull(sidecar.Runtime.Session.Current);
        Assert.True((await sidecar.GetAsync("github.com")).GitGet.Found);
        Assert.Equal(0, broker.State.SupersededTokenPresentations);
    }

    [Fact]
    public async Task Refresh_ReplyLost_RetriedWithTheSameKeyAndNoCallPresentsTheOldToken()
    {
        await using var broker = await StartBrokerAsync();
        broker.State.LoseNextRefreshReply = true;
        await using var sidecar = SidecarHarness.Start(broker);
        await sidecar.WaitConnectedAsync();
        var firstExpiry = sidecar.Runtime.Session.Current!.Snapshot.TokenExpiresAt;

        // Calls keep coming while the first refresh commits on the broker but its reply is lost:
        // until the retry settles it, none may present the token the broker already superseded.
        var calls = CallUntilSecondRefreshAsync(broker, sidecar);
        await broker.State.WaitForAsync(s => s.RefreshCalls >= 2, firstExpiry - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5));
        await calls;

        Assert.Equal(broker.State.RefreshKeys[0], broker.State.RefreshKeys[1]);
        Assert.Equal(32, broker.State.RefreshKeys[0].Length);
        Assert.Equal(0, broker.State.SupersededTokenPresentations);
        Assert.NotNull(sidecar.Runtime.Session.Current);
        Assert.Equal(broker.State.CurrentToken, sidecar.Runtime.Session.Current!.Token);
        Assert.True((await sidecar.GetAsync("github.com")).GitGet.Found);
        Assert.Equal(0, broker.State.SupersededTokenPresentations);
    }

    /// <summary>A fake broker with one credential and tokens that live 2 s (refreshed after ~1.2 s).</summary>
    private static async Task<FakeBroker> StartBrokerAsync()
    {
        var broker = await FakeBroker.StartAsync();
        broker.State.TokenLifetime = TimeSpan.FromSeconds(2);
        broker.State.AddCredential("github.com", "cred_1", "alice", "ghp_abc");
        return broker;
    }

    private static Task CallUntilSecondRefreshAsync(FakeBroker broker, SidecarHarness sidecar) => Task.Run(async () =>
    {
        while (broker.State.RefreshCalls < 2)
        {
            await sidecar.SendAsync(new Protos.Sidecar.V1.SidecarRequest { GitTargets = new() });
        }
    });

    [Fact]
    public void NextRefreshDelay_FreshToken_IsSixtyPercentOfLifetime()
    {
        var issued = DateTimeOffset.UnixEpoch;
        var snapshot = new SessionSnapshot("s", "w", issued, issued.AddMinutes(10), issued.AddHours(24));

        Assert.Equal(TimeSpan.FromMinutes(6), SessionRefresher.NextRefreshDelay(snapshot, issued));
    }

    [Fact]
    public void NextRefreshDelay_SessionEndsFirst_WakesAtSessionEnd()
    {
        var issued = DateTimeOffset.UnixEpoch;
        var snapshot = new SessionSnapshot("s", "w", issued, issued.AddMinutes(10), issued.AddMinutes(2));

        Assert.Equal(TimeSpan.FromMinutes(2), SessionRefresher.NextRefreshDelay(snapshot, issued));
    }
}
