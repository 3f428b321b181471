using Xares.Broker.Vault;
using Xares.Broker.WebUi;

namespace Xares.Broker.Tests.WebUi;

public sealed class KeyRotationOverviewTests
{
    private static readonly IReadOnlySet<string> Rewrapped = new HashSet<string>(StringComparer.Ordinal) { "credentials", "GitHub App keys" };

    private static KeyRotation.VersionStatus Version(int version, bool current, params (string What, long Rows)[] usage) =>
        new(version, current, Prunable: false, usage.ToDictionary(u => u.What, u => u.Rows));

    [Fact]
    public void From_MidRotation_CountsOnlyRewrappedKinds_AndNeverRoundsUpToComplete()
    {
        var overview = KeyRotationOverview.From(
            [Version(1, false, ("credentials", 1), ("audit records", 500)), Version(2, true, ("credentials", 198), ("GitHub App keys", 1), ("audit records", 10))],
            unfinished: 2, holder: "keys rotate on host-a", Rewrapped);

        Assert.Equal(2, overview.CurrentVersion);
        Assert.Equal(199, overview.RewrappedRows);
        Assert.Equal(200, overview.RewrappableRows);
        Assert.Equal(99, overview.Percent);
        Assert.False(overview.Complete);
        Assert.Equal("keys rotate on host-a", overview.RunningNow);
    }

    [Fact]
    public void From_AfterRotation_OldAuditRecordsStillOnAnOldVersion_IsComplete()
    {
        var overview = KeyRotationOverview.From(
            [Version(1, false, ("audit records", 500)), Version(2, true, ("credentials", 3), ("audit records", 2))], unfinished: null, holder: null, Rewrapped);

        Assert.Equal(100, overview.Percent);
        Assert.True(overview.Complete);
    }

    [Fact]
    public void From_NothingToRewrap_IsComplete_UnlessARotationIsUnfinished()
    {
        Assert.True(KeyRotationOverview.From([Version(1, true)], null, null, Rewrapped).Complete);
        var unfinished = KeyRotationOverview.From([Version(1, false), Version(2, true)], 2, null, Rewrapped);
        Assert.Equal(100, unfinished.Percent);
        Assert.False(unfinished.Complete);
    }

    [Fact]
    public void RewrappedKinds_AreTheSealedRowsARotationRewraps_NotAuditRecords()
    {
        var kinds = KeyRotation.RewrappedKinds;

        Assert.Contains("credentials", kinds);
        Assert.Contains("GitHub App keys", kinds);
        Assert.Contains("minted tokens", kinds);
        Assert.Contains("OAuth client secrets", kinds);
        Assert.DoesNotContain("audit records", kinds);
        Assert.DoesNotContain("OAuth tokens", kinds); // sealed again by every refresh instead
    }
}
