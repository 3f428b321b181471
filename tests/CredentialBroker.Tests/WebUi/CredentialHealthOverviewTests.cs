using Xares.Broker.CredentialHealth;
using Xares.Broker.Credentials;
using Xares.Broker.WebUi;

namespace Xares.Broker.Tests.WebUi;

public sealed class CredentialHealthOverviewTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static CredentialResponse Credential(string id, string status) => new(
        id, "usr_1", "git", "generic", id, "https://git.example/a.git", null, "alice", "…abcd", 1, null, Now, Now, false, 0, null,
        new CredentialUsageResponse(0, 0, null, 0, 0), null, false, new CredentialHealthView(status, status == "error" ? "401 from the provider" : null, Now, null, null), null);

    [Fact]
    public void From_CountsEveryState_AndListsTheFailingInOrder()
    {
        var overview = CredentialHealthOverview.From(
            [Credential("a", "error"), Credential("b", "active"), Credential("c", "error"), Credential("d", "unchecked"), Credential("e", "active")]);

        Assert.Equal(2, overview.Counts["error"]);
        Assert.Equal(2, overview.Counts["active"]);
        Assert.Equal(1, overview.Counts["unchecked"]);
        Assert.Equal(0, overview.Counts["expiring"]);
        Assert.Equal(5, overview.Total);
        Assert.Equal(["a", "c"], overview.Failing.Select(f => f.Id));
    }

    [Fact]
    public void From_ManyFailing_KeepsTheFirstFew_ButCountsThemAll()
    {
        var overview = CredentialHealthOverview.From(Enumerable.Range(0, 5).Select(i => Credential($"c{i}", "error")), failingShown: 2);

        Assert.Equal(["c0", "c1"], overview.Failing.Select(f => f.Id));
        Assert.Equal(5, overview.FailingTotal);
    }
}
