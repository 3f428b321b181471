using Xares.Broker.Credentials.Matching;
using Xares.GitTargets;

namespace Xares.Broker.Tests.Credentials.Matching;

public sealed class GitCredentialMatcherTests
{
    // Candidates are "url username" pairs separated by ';', oldest first; expected is the
    // winner's index, or -1 for no match.
    [Theory]
    // Host and port.
    [InlineData("https://github.com alice", "https", "github.com", null, null, 0)]
    [InlineData("https://github.com alice", "https", "GitHub.com.", null, null, 0)]
    [InlineData("https://github.com alice", "https", "github.com:443", null, null, 0)]
    [InlineData("https://github.com:443 alice", "https", "github.com", null, null, 0)]
    [InlineData("https://github.com alice", "https", "github.com:8443", null, null, -1)]
    [InlineData("https://github.com:8443 alice", "https", "github.com", null, null, -1)]
    [InlineData("https://github.com:8443 alice", "https", "github.com:8443", null, null, 0)]
    [InlineData("https://github.com alice", "https", "gitlab.com", null, null, -1)]
    [InlineData("https://github.com alice", "https", "evil-github.com", null, null, -1)]
    [InlineData("https://github.com alice", "https", "github.com.evil.example", null, null, -1)]
    [InlineData("https://github.com alice", "https", "api.github.com", null, null, -1)]
    [InlineData("https://bücher.example alice", "https", "xn--bcher-kva.example", null, null, 0)]
    [InlineData("https://xn--bcher-kva.example alice", "https", "bücher.example", null, null, 0)]
    [InlineData("https://[::1]:8443 alice", "https", "[0:0:0:0:0:0:0:1]:8443", null, null, 0)]
    [InlineData("http://127.0.0.1:3000 alice", "http", "127.0.0.1:3000", null, null, 0)]
    // http and https never cross, whatever the port.
    [InlineData("https://git.example alice", "http", "git.example", null, null, -1)]
    [InlineData("http://git.example alice", "https", "git.example", null, null, -1)]
    [InlineData("https://git.example:8080 alice", "http", "git.example:8080", null, null, -1)]
    [InlineData("http://git.example:443 alice", "https", "git.example", null, null, -1)]
    [InlineData("http://git.example alice; https://git.example bob", "https", "git.example", null, null, 1)]
    // Whole-segment path prefixes.
    [InlineData("https://github.com/org alice", "https", "github.com", "org/repo.git", null, 0)]
    [InlineData("https://github.com/org alice", "https", "github.com", "org", null, 0)]
    [InlineData("https://github.com/org alice", "https", "github.com", "org-evil/repo", null, -1)]
    [InlineData("https://github.com/org alice", "https", "github.com", "orgs/repo", null, -1)]
    [InlineData("https://github.com/org alice", "https", "github.com", "evil/org/repo", null, -1)]
    [InlineData("https://github.com/org/repo alice", "https", "github.com", "org", null, -1)]
    [InlineData("https://github.com/org/repo alice", "https", "github.com", "org/repo-evil", null, -1)]
    [InlineData("https://github.com/org/repo alice", "https", "github.com", "org/repo/info/lfs", null, 0)]
    [InlineData("https://github.com/org/ alice", "https", "github.com", "org/repo", null, 0)]
    // Path case is significant.
    [InlineData("https://github.com/Org alice", "https", "github.com", "org/repo", null, -1)]
    [InlineData("https://github.com/org alice", "https", "github.com", "ORG/repo", null, -1)]
    [InlineData("https://github.com/Org alice", "https", "github.com", "Org/repo", null, 0)]
    // Percent-encoding: git sends the decoded path.
    [InlineData("https://dev.azure.com/org/My%20Project alice", "https", "dev.azure.com", "org/My Project/_git/repo", null, 0)]
    [InlineData("https://dev.azure.com/org/My%20Project alice", "https", "dev.azure.com", "org/My%20Project/_git/repo", null, -1)]
    // ".git" is ignored on the candidate's last segment only.
    [InlineData("https://github.com/org/repo alice", "https", "github.com", "org/repo.git", null, 0)]
    [InlineData("https://github.com/org/repo.git alice", "https", "github.com", "org/repo", null, 0)]
    [InlineData("https://github.com/org/repo alice", "https", "github.com", "org/repo.git/info/lfs", null, 0)]
    [InlineData("https://github.com/org/repo alice", "https", "github.com", "org/repo.GIT", null, -1)]
    [InlineData("https://github.com/org/repo alice", "https", "github.com", "org/repo.git.git", null, -1)]
    [InlineData("https://github.com/org.git/repo alice", "https", "github.com", "org/repo", null, -1)]
    [InlineData("https://github.com/org/repo alice", "https", "github.com", "org/repo.gitx", null, -1)]
    [InlineData("https://github.com/org/.git alice", "https", "github.com", "org/x", null, -1)]
    // No path from git: only path-less candidates.
    [InlineData("https://github.com/org alice", "https", "github.com", null, null, -1)]
    [InlineData("https://github.com/org alice; https://github.com bob", "https", "github.com", null, null, 1)]
    [InlineData("https://github.com/org alice; https://github.com bob", "https", "github.com", "", null, 1)]
    // Longest prefix wins, whatever the order.
    [InlineData("https://github.com a; https://github.com/org b; https://github.com/org/repo c", "https", "github.com", "org/repo.git", null, 2)]
    [InlineData("https://github.com/org/repo c; https://github.com/org b; https://github.com a", "https", "github.com", "org/repo.git", null, 0)]
    [InlineData("https://github.com a; https://github.com/org b; https://github.com/org/repo c", "https", "github.com", "org/other", null, 1)]
    [InlineData("https://github.com a; https://github.com/org b; https://github.com/org/repo c", "https", "github.com", "other/repo", null, 0)]
    [InlineData("https://github.com/org/repo a; https://github.com/org/repo.git b", "https", "github.com", "org/repo.git", null, 1)]
    [InlineData("https://github.com/org/repo.git a; https://github.com/org/repo b", "https", "github.com", "org/repo", null, 1)]
    // Ties keep the oldest (first) candidate; duplicates are harmless.
    [InlineData("https://github.com alice; https://github.com bob", "https", "github.com", null, null, 0)]
    [InlineData("https://github.com bob; https://github.com alice", "https", "github.com", null, null, 0)]
    [InlineData("https://github.com/org alice; https://github.com/org alice", "https", "github.com", "org/repo", null, 0)]
    [InlineData("https://github.com:443/org alice; https://GITHUB.COM/org/ bob", "https", "github.com", "org/repo", null, 0)]
    // Two accounts on one host, told apart by username.
    [InlineData("https://github.com alice; https://github.com bob", "https", "github.com", null, "bob", 1)]
    [InlineData("https://github.com alice; https://github.com bob", "https", "github.com", null, "alice", 0)]
    [InlineData("https://github.com alice; https://github.com bob", "https", "github.com", null, "carol", -1)]
    [InlineData("https://github.com alice; https://github.com bob", "https", "github.com", null, "Bob", -1)]
    [InlineData("https://github.com alice; https://github.com bob", "https", "github.com", null, "", 0)]
    [InlineData("https://github.com alice; https://github.com/org bob", "https", "github.com", "org/repo", "alice", 0)]
    [InlineData("https://github.com/org alice; https://github.com/org/repo bob", "https", "github.com", "org/repo", "alice", 0)]
    // ...and by path.
    [InlineData("https://github.com/work alice; https://github.com/personal alice-home", "https", "github.com", "work/api", null, 0)]
    [InlineData("https://github.com/work alice; https://github.com/personal alice-home", "https", "github.com", "personal/dotfiles", null, 1)]
    [InlineData("https://github.com/work alice; https://github.com/personal alice-home", "https", "github.com", "oss/tool", null, -1)]
    [InlineData("https://github.com/work alice; https://github.com/personal alice-home", "https", "github.com", null, null, -1)]
    // Nothing to choose from.
    [InlineData("", "https", "github.com", "org/repo", null, -1)]
    public void FindBest_Table_PicksExpected(string candidates, string protocol, string host, string? path, string? username, int expected)
    {
        var list = ParseCandidates(candidates);
        Assert.True(GitRequestTarget.TryCreate(protocol, host, path, out var request));

        var best = GitCredentialMatcher.FindBest(list, c => c.Destination, c => c.Username, request, username);

        Assert.Equal(expected, best is null ? -1 : list.IndexOf(best));
    }

    [Theory]
    [InlineData("alice\n")]
    [InlineData("alice\r\nhost=evil.example")]
    [InlineData("alice\0")]
    public void FindBest_UnsafeRequestedUsername_MatchesNothing(string username)
    {
        var list = ParseCandidates("https://github.com alice");
        Assert.True(GitRequestTarget.TryCreate("https", "github.com", null, out var request));

        Assert.Null(GitCredentialMatcher.FindBest(list, c => c.Destination, c => c.Username, request, username));
    }

    [Fact]
    public void FindBest_Candidates_EnumeratedOnce()
    {
        var list = ParseCandidates("https://github.com a; https://github.com/org b");
        var enumerations = 0;
        IEnumerable<Candidate> Source()
        {
            enumerations++;
            foreach (var candidate in list)
            {
                yield return candidate;
            }
        }

        Assert.True(GitRequestTarget.TryCreate("https", "github.com", "org/repo", out var request));

        Assert.Same(list[1], GitCredentialMatcher.FindBest(Source(), c => c.Destination, c => c.Username, request, null));
        Assert.Equal(1, enumerations);
    }

    private static List<Candidate> ParseCandidates(string table) =>
        table.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(entry =>
            {
                var parts = entry.Split(' ');
                Assert.True(GitDestination.TryParse(parts[0], out var destination, out var error), error);
                return new Candidate(destination, parts[1]);
            })
            .ToList();

    private sealed record Candidate(GitDestination Destination, string Username);
}
