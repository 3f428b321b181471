using Xares.Broker.Credentials.Matching;
using Xares.GitTargets;
using Xares.Tests.Shared;

namespace Xares.Broker.Tests.Credentials.Matching;

/// <summary>The shared corpus against the broker's reading of a request; the sidecar's lease cache runs the same rows.</summary>
public sealed class GitRequestCorpusTests
{
    public static TheoryData<string, string, string, string?> Rows => GitRequestCorpus.Rows;

    [Theory]
    [MemberData(nameof(Rows))]
    public void TryCreate_CorpusRow_GivesExpectedCanonicalTarget(string protocol, string host, string path, string? expected)
    {
        var parsed = GitRequestTarget.TryCreate(protocol, host, path, out var target);

        Assert.Equal(expected, parsed ? target!.CanonicalKey : null);
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void FindBest_CorpusRow_MatchesTheCachedHostsCredentialOnlyOnItsOrigin(string protocol, string host, string path, string? expected)
    {
        Assert.True(GitDestination.TryParse(GitRequestCorpus.CachedTarget, out var stored, out _));
        var onOrigin = expected is not null
            && (expected == GitRequestCorpus.CachedTarget || expected.StartsWith(GitRequestCorpus.CachedTarget + "/", StringComparison.Ordinal));

        var found = GitRequestTarget.TryCreate(protocol, host, path, out var target)
            && GitCredentialMatcher.FindBest([stored], d => d, _ => "alice", target, null) is not null;

        Assert.Equal(onOrigin, found);
    }
}
