using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Time.Testing;
using Xares.Broker.WebUi;

namespace Xares.Broker.Tests.WebUi;

public sealed class UiSessionStoreTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task Store_EverySignInGetsANewUnguessableId()
    {
        using var store = new UiSessionStore(_time);

        var first = await store.StoreAsync(Ticket(TimeSpan.FromMinutes(30)));
        var second = await store.StoreAsync(Ticket(TimeSpan.FromMinutes(30)));

        Assert.NotEqual(first, second);
        Assert.Equal(43, first.Length); // 32 random bytes, base64url
        Assert.NotNull(await store.RetrieveAsync(first));
    }

    [Fact]
    public async Task Remove_EndsTheSession_AndARenewalCannotBringItBack()
    {
        using var store = new UiSessionStore(_time);
        var id = await store.StoreAsync(Ticket(TimeSpan.FromMinutes(30)));

        await store.RemoveAsync(id);
        await store.RenewAsync(id, Ticket(TimeSpan.FromMinutes(30)));

        Assert.Null(await store.RetrieveAsync(id));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task Retrieve_AfterTheTicketExpired_Nothing()
    {
        using var store = new UiSessionStore(_time);
        var id = await store.StoreAsync(Ticket(TimeSpan.FromMinutes(30)));

        _time.Advance(TimeSpan.FromMinutes(31));

        Assert.Null(await store.RetrieveAsync(id));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(7 * 3600, false)]
    [InlineData(8 * 3600, true)]
    public void SessionLifetime_AbsoluteTimeoutCountsFromSignIn(int secondsSinceSignIn, bool over)
    {
        var signedIn = _time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(over, UiSessionLifetime.IsOver(signedIn, _time.GetUtcNow().AddSeconds(secondsSinceSignIn), TimeSpan.FromHours(8)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-5")]
    [InlineData("soon")]
    public void SessionLifetime_NoSignInTime_Over(string? signedIn) =>
        Assert.True(UiSessionLifetime.IsOver(signedIn, _time.GetUtcNow(), TimeSpan.FromHours(8)));

    private AuthenticationTicket Ticket(TimeSpan lifetime) =>
        new(new ClaimsPrincipal(new ClaimsIdentity([new Claim("x", "y")], "test")), new AuthenticationProperties { ExpiresUtc = _time.GetUtcNow() + lifetime }, "WebUi");
}
