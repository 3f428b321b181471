using Microsoft.Extensions.Time.Testing;
using Xares.Broker.WebUi;

namespace Xares.Broker.Tests.WebUi;

public sealed class UiOneTimeFormsTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void TryClaim_AnIssuedId_SucceedsOnce_AReplayIsRefused()
    {
        var forms = new UiOneTimeForms(_time);
        var id = forms.Issue();

        Assert.True(forms.TryClaim(id));
        Assert.False(forms.TryClaim(id));
        Assert.True(forms.TryClaim(forms.Issue()));
    }

    [Fact]
    public void Issue_IdsAreDistinctAndCarryTheirTime()
    {
        var forms = new UiOneTimeForms(_time);
        var a = forms.Issue();
        var b = forms.Issue();

        Assert.NotEqual(a, b);
        Assert.StartsWith(_time.GetUtcNow().ToUnixTimeSeconds() + ".", a, StringComparison.Ordinal);
        Assert.True(a.Length > 40); // 256 random bits after the time
    }

    [Fact]
    public void TryClaim_AnIdOlderThanItsLifetime_IsRefused()
    {
        var forms = new UiOneTimeForms(_time);
        var id = forms.Issue();
        _time.Advance(UiOneTimeForms.Lifetime + TimeSpan.FromSeconds(1));

        Assert.False(forms.TryClaim(id));
    }

    [Fact]
    public void TryClaim_AClaimedIdStaysRefused_UntilItWouldBeStaleAnyway()
    {
        var forms = new UiOneTimeForms(_time);
        var id = forms.Issue();
        Assert.True(forms.TryClaim(id));
        _time.Advance(UiOneTimeForms.Lifetime - TimeSpan.FromSeconds(1));

        Assert.True(forms.TryClaim(forms.Issue())); // prunes nothing still needed
        Assert.False(forms.TryClaim(id));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-form-id")]
    [InlineData(".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("-5.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void TryClaim_AMalformedOrFutureId_IsRefused(string? id) => Assert.False(new UiOneTimeForms(_time).TryClaim(id));
}
