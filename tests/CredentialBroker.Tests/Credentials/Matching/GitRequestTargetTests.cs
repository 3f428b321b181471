using Xares.Broker.Credentials.Matching;
using Xares.GitTargets;

namespace Xares.Broker.Tests.Credentials.Matching;

public sealed class GitRequestTargetTests
{
    [Theory]
    [InlineData("https", "github.com", null, "https", "github.com", 443, "")]
    [InlineData("https", "github.com", "", "https", "github.com", 443, "")]
    [InlineData("HTTPS", "GitHub.COM", null, "https", "github.com", 443, "")]
    [InlineData("https", "github.com:443", null, "https", "github.com", 443, "")]
    [InlineData("https", "github.com:8443", null, "https", "github.com", 8443, "")]
    [InlineData("http", "git.example", null, "http", "git.example", 80, "")]
    [InlineData("http", "git.example:80", null, "http", "git.example", 80, "")]
    [InlineData("http", "git.example:443", null, "http", "git.example", 443, "")]
    [InlineData("https", "github.com.", null, "https", "github.com", 443, "")]
    [InlineData("https", "github.com.:443", null, "https", "github.com", 443, "")]
    [InlineData("https", "[::1]", null, "https", "[::1]", 443, "")]
    [InlineData("http", "[::1]:8080", "org/repo", "http", "[::1]", 8080, "org|repo")]
    [InlineData("https", "[0:0::1]:443", null, "https", "[::1]", 443, "")]
    [InlineData("https", "bücher.example", null, "https", "xn--bcher-kva.example", 443, "")]
    [InlineData("https", "xn--bcher-kva.example", null, "https", "xn--bcher-kva.example", 443, "")]
    [InlineData("https", "github.com", "org/repo.git", "https", "github.com", 443, "org|repo.git")]
    [InlineData("https", "github.com", "Org/Repo", "https", "github.com", 443, "Org|Repo")]
    [InlineData("https", "github.com", "org/repo.git/info/lfs", "https", "github.com", 443, "org|repo.git|info|lfs")]
    [InlineData("https", "dev.azure.com", "org/My Project/_git/repo", "https", "dev.azure.com", 443, "org|My Project|_git|repo")]
    [InlineData("https", "github.com", "org/a%41", "https", "github.com", 443, "org|a%41")]
    [InlineData("https", "github.com", "org/...", "https", "github.com", 443, "org|...")]
    public void TryCreate_ValidFields_Canonicalizes(string protocol, string host, string? path, string scheme, string expectedHost, int port, string segments)
    {
        Assert.True(GitRequestTarget.TryCreate(protocol, host, path, out var target));
        Assert.Equal(scheme, target.Scheme);
        Assert.Equal(expectedHost, target.Host);
        Assert.Equal(port, target.Port);
        Assert.Equal(segments, string.Join('|', target.PathSegments));
        Assert.Equal(segments.Length > 0, target.HasPath);
    }

    [Theory]
    [InlineData("https", "GitHub.com:443", "org/repo", "https://github.com/org/repo")]
    [InlineData("http", "git.example:8080", null, "http://git.example:8080")]
    public void ToString_Target_ShowsUrl(string protocol, string host, string? path, string expected)
    {
        Assert.True(GitRequestTarget.TryCreate(protocol, host, path, out var target));
        Assert.Equal(expected, target.ToString());
    }

    [Theory]
    [InlineData("https://github.com", "https", "github.com:443", null)]
    [InlineData("https://github.com/org", "https", "GITHUB.COM.", "org/repo")]
    [InlineData("http://git.example:8080", "HTTP", "git.example:8080", null)]
    [InlineData("https://bücher.example", "https", "xn--bcher-kva.example", null)]
    [InlineData("https://xn--bcher-kva.example", "https", "Bücher.example", null)]
    [InlineData("https://[::1]:8443", "https", "[0::1]:8443", null)]
    public void TryCreate_SameHostAsDestination_ComparesEqual(string url, string protocol, string host, string? path)
    {
        Assert.True(GitDestination.TryParse(url, out var destination, out _));
        Assert.True(GitRequestTarget.TryCreate(protocol, host, path, out var target));
        Assert.Equal(destination.Scheme, target.Scheme);
        Assert.Equal(destination.Host, target.Host);
        Assert.Equal(destination.Port, target.Port);
    }

    [Theory]
    // Protocol.
    [InlineData("ssh", "github.com", null)]
    [InlineData("git", "github.com", null)]
    [InlineData("", "github.com", null)]
    [InlineData("https\n", "github.com", null)]
    [InlineData("htt\u212Aps", "github.com", null)]
    // Host.
    [InlineData("https", "", null)]
    [InlineData("https", ".", null)]
    [InlineData("https", "github.com:", null)]
    [InlineData("https", "github.com:0", null)]
    [InlineData("https", "github.com:65536", null)]
    [InlineData("https", "github.com:x", null)]
    [InlineData("https", "github.com:443:443", null)]
    [InlineData("https", "::1", null)]
    [InlineData("https", "[::1", null)]
    [InlineData("https", "[fe80::1%eth0]", null)]
    [InlineData("https", "alice@github.com", null)]
    [InlineData("https", "github..com", null)]
    [InlineData("https", "github.com\nhost=evil.example", null)]
    [InlineData("https", "github.com\r", null)]
    [InlineData("https", "github.com\0", null)]
    [InlineData("https", "github.com/org", null)]
    [InlineData("https", "github.com\\org", null)]
    [InlineData("https", "git hub.com", null)]
    [InlineData("https", "GİTHUB.com", null)]
    // Path.
    [InlineData("https", "github.com", "/org/repo")]
    [InlineData("https", "github.com", "org/")]
    [InlineData("https", "github.com", "org//repo")]
    [InlineData("https", "github.com", "org/../other")]
    [InlineData("https", "github.com", "..")]
    [InlineData("https", "github.com", "org/./repo")]
    [InlineData("https", "github.com", ".")]
    [InlineData("https", "github.com", "org\\repo")]
    [InlineData("https", "github.com", "org/..\\x")]
    [InlineData("https", "github.com", "org/%2e%2e/other")]
    [InlineData("https", "github.com", "org/%2E")]
    [InlineData("https", "github.com", "org%2Fevil")]
    [InlineData("https", "github.com", "org%2fevil/repo")]
    [InlineData("https", "github.com", "org%5Cevil")]
    [InlineData("https", "github.com", "org/repo\n")]
    [InlineData("https", "github.com", "org/repo\r\nhost=evil.example")]
    [InlineData("https", "github.com", "org/\0")]
    [InlineData("https", "github.com", "org/\u0001")]
    public void TryCreate_InvalidFields_MatchesNothing(string protocol, string host, string? path)
    {
        Assert.False(GitRequestTarget.TryCreate(protocol, host, path, out var target));
        Assert.Null(target);
    }
}
