using Microsoft.Extensions.Time.Testing;
using Xares.Sidecar.Leases;
using Xares.Tests.Shared;

namespace Xares.Sidecar.Tests.Leases;

/// <summary>The shared corpus against the lease cache's keys; the broker's matcher runs the same rows.</summary>
public sealed class LeaseKeyTests
{
    public static TheoryData<string, string, string, string?> Rows => GitRequestCorpus.Rows;

    [Theory]
    [MemberData(nameof(Rows))]
    public void ForGit_CorpusRow_KeysOnTheBrokersCanonicalTarget(string protocol, string host, string path, string? expected)
    {
        var key = LeaseKey.ForGit(protocol, host, path, "u");

        if (expected is null)
        {
            Assert.Null(key);
            return;
        }
        var (canonicalProtocol, canonicalHost, canonicalPath) = Split(expected);
        Assert.Equal(LeaseKey.ForGit(canonicalProtocol, canonicalHost, canonicalPath, "u"), key);
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Find_CachedForTheHost_HitsOnlyForTheSameCanonicalTarget(string protocol, string host, string path, string? expected)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = new LeaseCache(time);
        var cached = LeaseKey.ForGit("https", GitRequestCorpus.CachedHost, "", "")!.Value;
        cache.Admit(cached, new CachedLease("lease_1", "cred_1", "alice", "s3cret", time.GetUtcNow().AddMinutes(10), 1, time.GetUtcNow()), cache.Revision);

        var hit = LeaseKey.ForGit(protocol, host, path, "") is { } key && cache.Find(key) is not null;

        Assert.Equal(expected == GitRequestCorpus.CachedTarget, hit);
    }

    [Fact]
    public void ForGit_OtherUsername_IsAnotherKey()
    {
        Assert.NotEqual(LeaseKey.ForGit("https", "kit.example.test", "", "alice"), LeaseKey.ForGit("https", "kit.example.test", "", "Alice"));
    }

    [Theory]
    [InlineData(" openai")]
    [InlineData("openai ")]
    [InlineData("\u212Aey")]
    public void ForAi_ProviderPaddedOrUnicodeFolded_IsAnotherKey(string provider)
    {
        // The key's provider is what the broker receives and compares ordinally.
        var asked = LeaseKey.ForAi(provider, "", "inject");

        Assert.NotEqual(LeaseKey.ForAi(provider.Trim().ToLowerInvariant(), "", "inject"), asked);
        Assert.Equal(provider, asked.Host);
    }

    [Fact]
    public void ForAi_AsciiCase_FoldsToTheBrokersName()
    {
        Assert.Equal(LeaseKey.ForAi("openai", "", "proxy"), LeaseKey.ForAi("OpenAI", "", "proxy"));
    }

    private static (string Protocol, string Host, string Path) Split(string target)
    {
        var schemeEnd = target.IndexOf("://", StringComparison.Ordinal);
        var rest = target[(schemeEnd + 3)..];
        var slash = rest.IndexOf('/');
        return slash < 0 ? (target[..schemeEnd], rest, "") : (target[..schemeEnd], rest[..slash], rest[(slash + 1)..]);
    }
}
