using Microsoft.Extensions.Time.Testing;
using Xares.Sidecar.Leases;

namespace Xares.Sidecar.Tests.Leases;

public sealed class LeaseCacheTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2030-01-01T00:00:00Z"));
    private readonly LeaseCache _cache;
    private static readonly LeaseKey GitHub = LeaseKey.ForGit("https", "github.com", "org/repo", "")!.Value;

    public LeaseCacheTests() => _cache = new LeaseCache(_time);

    private CachedLease Lease(string id = "lease_1", string credential = "cred_1", string secret = "s3cret", TimeSpan? lifetime = null) =>
        new(id, credential, "alice", secret, _time.GetUtcNow() + (lifetime ?? TimeSpan.FromMinutes(15)), 1, _time.GetUtcNow());

    [Fact]
    public void Find_BeforeMargin_ReturnsLease()
    {
        _cache.Admit(GitHub, Lease(), _cache.Revision);
        _time.Advance(TimeSpan.FromMinutes(13));

        Assert.NotNull(_cache.Find(GitHub));
    }

    [Fact]
    public void Find_WithinTenPercentOfExpiry_ReturnsNullAndForgets()
    {
        _cache.Admit(GitHub, Lease(), _cache.Revision);
        _time.Advance(TimeSpan.FromMinutes(13.6));

        Assert.Null(_cache.Find(GitHub));
        Assert.Equal(0, _cache.Count);
    }

    [Fact]
    public void Admit_LifetimeUnderThirtySeconds_ServeOnceOnly()
    {
        Assert.Equal(Admission.ServeOnce, _cache.Admit(GitHub, Lease(lifetime: TimeSpan.FromSeconds(25)), _cache.Revision));
        Assert.Equal(0, _cache.Count);
    }

    [Fact]
    public void Admit_ClearedWhileFetching_Refused()
    {
        var revision = _cache.Revision;
        _cache.Clear();

        Assert.Equal(Admission.Refused, _cache.Admit(GitHub, Lease(), revision));
        Assert.Equal(0, _cache.Count);
    }

    [Fact]
    public void Admit_CredentialRevokedWhileFetching_RefusedButLaterFetchesAreFine()
    {
        var revision = _cache.Revision;
        _cache.RemoveCredential("cred_1");

        Assert.Equal(Admission.Refused, _cache.Admit(GitHub, Lease(), revision));
        Assert.Equal(Admission.Cached, _cache.Admit(GitHub, Lease("lease_2"), _cache.Revision));
    }

    [Fact]
    public void Admit_LeaseRevokedBeforeItArrived_Refused()
    {
        _cache.RemoveLease("lease_1");

        Assert.Equal(Admission.Refused, _cache.Admit(GitHub, Lease(), _cache.Revision));
    }

    [Fact]
    public void RetainValid_DropsOnlyCheckedLeasesTheBrokerNoLongerVouchesFor()
    {
        var gitlab = LeaseKey.ForGit("https", "gitlab.com", "", "")!.Value;
        var late = LeaseKey.ForGit("https", "late.example", "", "")!.Value;
        _cache.Admit(GitHub, Lease("lease_1"), _cache.Revision);
        _cache.Admit(gitlab, Lease("lease_2"), _cache.Revision);
        var checkedIds = _cache.LeaseIds();
        _cache.Admit(late, Lease("lease_3"), _cache.Revision);

        var dropped = _cache.RetainValid(checkedIds, new HashSet<string> { "lease_2" });

        Assert.Equal(1, dropped);
        Assert.Null(_cache.Find(GitHub));
        Assert.NotNull(_cache.Find(gitlab));
        Assert.NotNull(_cache.Find(late));
    }

    [Fact]
    public void TakeBySecret_UsernameGitLearnedFromUs_FindsAndRemovesLease()
    {
        _cache.Admit(GitHub, Lease(), _cache.Revision);
        var erase = LeaseKey.ForGit("https", "github.com", "org/repo", "alice")!.Value;

        Assert.Null(_cache.TakeBySecret(erase, "s3cres"));
        Assert.Equal("lease_1", _cache.TakeBySecret(erase, "s3cret")?.LeaseId);
        Assert.Null(_cache.TakeBySecret(erase, "s3cret"));
        Assert.Equal(0, _cache.Count);
    }

    [Fact]
    public void TakeBySecret_OtherHost_DoesNotMatch()
    {
        _cache.Admit(GitHub, Lease(), _cache.Revision);

        Assert.Null(_cache.TakeBySecret(LeaseKey.ForGit("https", "evil.com", "org/repo", "")!.Value, "s3cret"));
        Assert.Equal(1, _cache.Count);
    }

    [Fact]
    public void CachedLease_ToString_NeverShowsSecret()
    {
        Assert.DoesNotContain("s3cret", Lease().ToString());
    }
}
