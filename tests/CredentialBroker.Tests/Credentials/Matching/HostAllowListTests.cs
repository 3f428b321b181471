using Xares.Broker.Credentials.Matching;

namespace Xares.Broker.Tests.Credentials.Matching;

public sealed class HostAllowListTests
{
    [Fact]
    public void TryParse_Null_AllowsEverything()
    {
        Assert.True(HostAllowList.TryParse(null, out var list, out _));
        Assert.Same(HostAllowList.AllowAll, list);
        Assert.True(list.IsUnrestricted);
        Assert.Empty(list.Patterns);
        Assert.True(list.Allows("anything.example", 443));
        Assert.True(list.Allows("[::1]", 8080));
    }

    [Fact]
    public void TryParse_EmptyList_AllowsNothing()
    {
        Assert.True(HostAllowList.TryParse([], out var list, out _));
        Assert.False(list.IsUnrestricted);
        Assert.False(list.Allows("github.com", 443));
    }

    // Patterns are separated by ','.
    [Theory]
    [InlineData("github.com", "github.com")]
    [InlineData("GitHub.COM.", "github.com")]
    [InlineData("github.com,GITHUB.com,github.com.", "github.com")]
    [InlineData("git.example:8443", "git.example:8443")]
    [InlineData("git.example:443,git.example", "git.example:443,git.example")]
    [InlineData("*.example.com", "*.example.com")]
    [InlineData("*.Example.COM.:8443", "*.example.com:8443")]
    [InlineData("bücher.example,*.bücher.example", "xn--bcher-kva.example,*.xn--bcher-kva.example")]
    [InlineData("[0:0::1]:8080,[::1]", "[::1]:8080,[::1]")]
    [InlineData("127.0.0.1:3000,gitea_server", "127.0.0.1:3000,gitea_server")]
    public void TryParse_ValidPatterns_Canonicalizes(string patterns, string expected)
    {
        Assert.True(HostAllowList.TryParse(patterns.Split(','), out var list, out var error), error);
        Assert.Equal(expected, string.Join(',', list.Patterns));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData(" ", "empty")]
    [InlineData(" github.com", "spaces")]
    [InlineData("git hub.com", "spaces")]
    [InlineData("github.com\n", "spaces")]
    [InlineData("github.com\0", "control")]
    [InlineData("https://github.com", "scheme")]
    [InlineData("ssh://github.com", "scheme")]
    [InlineData("github.com/org", "path")]
    [InlineData("github.com\\org", "path")]
    [InlineData("github.com?x", "path")]
    [InlineData("github.com#x", "path")]
    [InlineData("alice@github.com", "username")]
    [InlineData("*", "wildcard")]
    [InlineData("*.", "wildcard")]
    [InlineData("**.example.com", "wildcard")]
    [InlineData("*.*.example.com", "wildcard")]
    [InlineData("*example.com", "wildcard")]
    [InlineData("a.*.example.com", "wildcard")]
    [InlineData("example.*", "wildcard")]
    [InlineData("*.example.com*", "wildcard")]
    [InlineData("*.[::1]", "IP address")]
    [InlineData("github.com:0", "port")]
    [InlineData("github.com:65536", "port")]
    [InlineData("github.com:", "port")]
    [InlineData("github.com:https", "port")]
    [InlineData("*.example.com:x", "port")]
    [InlineData("::1", "brackets")]
    [InlineData("[::1", "IPv6")]
    [InlineData("github..com", "empty label")]
    [InlineData(".github.com", "empty label")]
    [InlineData("*..example.com", "empty label")]
    [InlineData("BÜCHER.example", "lowercase")]
    public void TryParse_InvalidPattern_FailsWithPosition(string pattern, string reasonFragment)
    {
        Assert.False(HostAllowList.TryParse(["github.com", pattern], out var list, out var error));
        Assert.Null(list);
        Assert.StartsWith("allowedHosts[1] is invalid: ", error, StringComparison.Ordinal);
        Assert.Contains(reasonFragment, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void TryParse_NullEntry_Fails() =>
        Assert.False(HostAllowList.TryParse([null!], out _, out _));

    [Fact]
    public void TryParse_TooManyPatterns_Fails() =>
        Assert.False(HostAllowList.TryParse([.. Enumerable.Range(0, 257).Select(i => $"h{i}.example")], out _, out _));

    [Fact]
    public void TryParse_UrlWithToken_ErrorDoesNotEchoIt()
    {
        Assert.False(HostAllowList.TryParse(["https://x:ghp_SECRETSECRET@github.com"], out _, out var error));
        Assert.DoesNotContain("SECRET", error, StringComparison.Ordinal);
    }

    [Theory]
    // Exact hosts, any port unless one is given.
    [InlineData("github.com", "github.com", 443, true)]
    [InlineData("github.com", "github.com", 8443, true)]
    [InlineData("github.com", "GitHub.com.", 443, true)]
    [InlineData("github.com", "api.github.com", 443, false)]
    [InlineData("github.com", "evilgithub.com", 443, false)]
    [InlineData("github.com", "github.com.evil.example", 443, false)]
    [InlineData("git.example:8443", "git.example", 8443, true)]
    [InlineData("git.example:8443", "git.example", 443, false)]
    [InlineData("git.example:443", "git.example", 443, true)]
    [InlineData("git.example:443", "git.example", 80, false)]
    // Wildcards cover subdomains at any depth, never the apex or look-alikes.
    [InlineData("*.example.com", "a.example.com", 443, true)]
    [InlineData("*.example.com", "a.b.example.com", 443, true)]
    [InlineData("*.example.com", "A.Example.Com.", 443, true)]
    [InlineData("*.example.com", "example.com", 443, false)]
    [InlineData("*.example.com", "badexample.com", 443, false)]
    [InlineData("*.example.com", "a.badexample.com", 443, false)]
    [InlineData("*.example.com", "example.com.evil.example", 443, false)]
    [InlineData("*.example.com", ".example.com", 443, false)]
    [InlineData("*.example.com:8443", "a.example.com", 8443, true)]
    [InlineData("*.example.com:8443", "a.example.com", 443, false)]
    [InlineData("*.example.com,example.com", "example.com", 443, true)]
    // Same canonical host as stored URLs: IDN, IPv6.
    [InlineData("bücher.example", "xn--bcher-kva.example", 443, true)]
    [InlineData("xn--bcher-kva.example", "bücher.example", 443, true)]
    [InlineData("*.bücher.example", "git.xn--bcher-kva.example", 443, true)]
    [InlineData("[::1]:8080", "[0:0::1]", 8080, true)]
    [InlineData("[::1]", "[::2]", 443, false)]
    // Hosts that are not hosts are never allowed.
    [InlineData("github.com", "", 443, false)]
    [InlineData("github.com", "github.com\n", 443, false)]
    [InlineData("*.example.com", "a..example.com", 443, false)]
    public void Allows_Table_Expected(string patterns, string host, int port, bool expected)
    {
        Assert.True(HostAllowList.TryParse(patterns.Split(','), out var list, out var error), error);
        Assert.Equal(expected, list.Allows(host, port));
    }
}
