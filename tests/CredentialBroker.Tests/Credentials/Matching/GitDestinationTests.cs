using Xares.Broker.Credentials.Matching;

namespace Xares.Broker.Tests.Credentials.Matching;

public sealed class GitDestinationTests
{
    [Theory]
    // Scheme and host case, default ports folded, non-default kept.
    [InlineData("https://github.com", "https://github.com")]
    [InlineData("HTTPS://GitHub.COM", "https://github.com")]
    [InlineData("https://github.com:443", "https://github.com")]
    [InlineData("http://git.example:80", "http://git.example")]
    [InlineData("https://git.example:8443", "https://git.example:8443")]
    [InlineData("http://git.example:443", "http://git.example:443")]
    [InlineData("https://git.example:80", "https://git.example:80")]
    [InlineData("https://git.example:65535", "https://git.example:65535")]
    // Trailing dot and slashes.
    [InlineData("https://github.com.", "https://github.com")]
    [InlineData("https://github.com./org", "https://github.com/org")]
    [InlineData("https://github.com/", "https://github.com")]
    [InlineData("https://github.com/org/", "https://github.com/org")]
    // Paths keep their case and any ".git".
    [InlineData("https://github.com/Org/Repo.git", "https://github.com/Org/Repo.git")]
    [InlineData("https://gitlab.example/group/sub/project", "https://gitlab.example/group/sub/project")]
    // Percent-encoding is decoded once and re-encoded canonically.
    [InlineData("https://dev.azure.com/org/My%20Project", "https://dev.azure.com/org/My%20Project")]
    [InlineData("https://dev.azure.com/org/my%2dproject", "https://dev.azure.com/org/my-project")]
    [InlineData("https://host.example/a%2541", "https://host.example/a%2541")]
    [InlineData("https://host.example/b%C3%BCcher", "https://host.example/b%C3%BCcher")]
    [InlineData("https://host.example/bücher", "https://host.example/b%C3%BCcher")]
    [InlineData("https://host.example/a:b@c+d~e", "https://host.example/a:b@c+d~e")]
    // IDN to punycode; punycode kept.
    [InlineData("https://bücher.example/org", "https://xn--bcher-kva.example/org")]
    [InlineData("https://Bücher.Example.", "https://xn--bcher-kva.example")]
    [InlineData("https://xn--bcher-kva.example", "https://xn--bcher-kva.example")]
    [InlineData("https://XN--BCHER-KVA.example", "https://xn--bcher-kva.example")]
    [InlineData("https://例え.テスト", "https://xn--r8jz45g.xn--zckzah")]
    // IPv6 and IPv4 literals; underscores from container networks.
    [InlineData("https://[::1]", "https://[::1]")]
    [InlineData("http://[::1]:8080/org", "http://[::1]:8080/org")]
    [InlineData("https://[0:0:0:0:0:0:0:1]:443", "https://[::1]")]
    [InlineData("https://[2001:DB8::A]", "https://[2001:db8::a]")]
    [InlineData("http://127.0.0.1:3000/org", "http://127.0.0.1:3000/org")]
    [InlineData("http://gitea_server:3000", "http://gitea_server:3000")]
    public void TryParse_ValidUrl_Canonicalizes(string url, string expected)
    {
        Assert.True(GitDestination.TryParse(url, out var destination, out var error), error);
        Assert.Equal(expected, destination.CanonicalUrl);
        Assert.Equal(expected, destination.ToString());

        // Canonical form is a fixed point: it is bound into ciphertexts and may be reparsed.
        Assert.True(GitDestination.TryParse(destination.CanonicalUrl, out var again, out _));
        Assert.Equal(destination.CanonicalUrl, again.CanonicalUrl);
    }

    [Theory]
    [InlineData("https://github.com/org/repo.git", "https", "github.com", 443, "https://github.com", "org|repo.git")]
    [InlineData("http://Git.Example:8080", "http", "git.example", 8080, "http://git.example:8080", "")]
    [InlineData("https://[::1]:8443/a/b", "https", "[::1]", 8443, "https://[::1]:8443", "a|b")]
    [InlineData("https://dev.azure.com/org/My%20Project", "https", "dev.azure.com", 443, "https://dev.azure.com", "org|My Project")]
    public void TryParse_ValidUrl_ExposesParts(string url, string scheme, string host, int port, string origin, string segments)
    {
        Assert.True(GitDestination.TryParse(url, out var destination, out var error), error);
        Assert.Equal(scheme, destination.Scheme);
        Assert.Equal(host, destination.Host);
        Assert.Equal(port, destination.Port);
        Assert.Equal(origin, destination.OriginUrl);
        Assert.Equal(segments, string.Join('|', destination.PathSegments));
        Assert.Equal(segments.Length > 0, destination.HasPath);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("github.com/org", "https://")]
    [InlineData("ssh://git@github.com/org", "https://")]
    [InlineData("git://github.com/org", "https://")]
    [InlineData("ftp://github.com", "https://")]
    [InlineData("https:/github.com", "https://")]
    [InlineData("https://", "no host")]
    [InlineData("https:///org", "no host")]
    [InlineData("https://alice@github.com/org", "username")]
    [InlineData("https://alice:ghp_secret@github.com", "username")]
    [InlineData("https://:ghp_secret@github.com", "username")]
    [InlineData("https://github.com/org?ref=main", "query")]
    [InlineData("https://github.com?x", "query")]
    [InlineData("https://github.com/org#readme", "fragment")]
    [InlineData("https://github.com:0", "port")]
    [InlineData("https://github.com:65536", "port")]
    [InlineData("https://github.com:", "port")]
    [InlineData("https://github.com:abc", "port")]
    [InlineData("https://github.com:-1", "port")]
    [InlineData("https://github.com:+443", "port")]
    [InlineData("https://github.com:0443", "port")]
    [InlineData("https://github.com:443:443", "brackets")]
    [InlineData("https://::1/org", "brackets")]
    [InlineData("https://[::1/org", "IPv6")]
    [InlineData("https://[::1]x/org", "IPv6")]
    [InlineData("https://[]", "IPv6")]
    [InlineData("https://[fe80::1%25eth0]", "IPv6")]
    [InlineData("https://[127.0.0.1]", "IPv6")]
    [InlineData("https://[github.com]", "IPv6")]
    [InlineData("https://.", "empty")]
    [InlineData("https://github..com", "empty label")]
    [InlineData("https://.github.com", "empty label")]
    [InlineData("https://github.com..", "empty label")]
    [InlineData("https://git%68ub.com", "letters")]
    [InlineData("https://git*hub.com", "letters")]
    [InlineData("https://BÜCHER.example", "lowercase")]
    [InlineData("https://\u212Aey.example", "lowercase")]
    [InlineData("https://\u0130.example", "lowercase")]
    [InlineData("https://a\u3002example.com", "not allowed")]
    [InlineData("https://a\uFF0Eexample.com", "not allowed")]
    [InlineData("https://git\u200Bhub.com", "not allowed")]
    [InlineData("https://\U0001F600.example", "not allowed")]
    [InlineData("https://github.com/org//repo", "empty segments")]
    [InlineData("https://github.com//org", "empty segments")]
    [InlineData("https://github.com/org//", "empty segments")]
    [InlineData("https://github.com/org/../other", "'..'")]
    [InlineData("https://github.com/org/./repo", "'..'")]
    [InlineData("https://github.com/..", "'..'")]
    [InlineData("https://github.com/org/%2e%2e/other", "percent-encode")]
    [InlineData("https://github.com/org/%2E", "percent-encode")]
    [InlineData("https://github.com/org%2Fevil", "percent-encode")]
    [InlineData("https://github.com/org%2fevil", "percent-encode")]
    [InlineData("https://github.com/org%5Cevil", "percent-encode")]
    [InlineData("https://github.com/%252e%252e", "not allowed")]
    [InlineData("https://github.com/org%252Fevil", "not allowed")]
    [InlineData("https://github.com/org%255Cevil", "not allowed")]
    [InlineData("https://github.com/org/%00", "not allowed")]
    [InlineData("https://github.com/org/%0Ahost=evil", "not allowed")]
    [InlineData("https://github.com/org/%zz", "malformed")]
    [InlineData("https://github.com/org/%4", "malformed")]
    [InlineData("https://github.com/org/%FF", "malformed")]
    [InlineData("https://github.com/org/%C3", "malformed")]
    [InlineData("https://github.com\\org", "backslash")]
    [InlineData("https://github.com/org\\repo", "backslash")]
    [InlineData("https://github.com/my org", "spaces")]
    [InlineData(" https://github.com", "spaces")]
    [InlineData("https://github.com/org\n", "control")]
    [InlineData("https://github.com/org\r\nhost=evil", "control")]
    [InlineData("https://github.com/\0", "control")]
    public void TryParse_InvalidUrl_FailsWithReason(string url, string reasonFragment)
    {
        Assert.False(GitDestination.TryParse(url, out var destination, out var error));
        Assert.Null(destination);
        Assert.Contains(reasonFragment, error, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith(".", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_UrlTooLong_Fails() =>
        Assert.False(GitDestination.TryParse("https://github.com/" + new string('a', 2100), out _, out _));

    [Theory]
    [InlineData("https://alice:ghp_SECRETSECRET@github.com/org")]
    [InlineData("https://ghp_SECRETSECRET@github.com")]
    [InlineData("https://github.com/org?token=ghp_SECRETSECRET")]
    public void TryParse_SecretInUrl_ErrorDoesNotEchoIt(string url)
    {
        Assert.False(GitDestination.TryParse(url, out _, out var error));
        Assert.DoesNotContain("SECRET", error, StringComparison.Ordinal);
    }
}
