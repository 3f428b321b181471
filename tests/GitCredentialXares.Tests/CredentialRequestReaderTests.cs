using System.Text;

namespace Xares.GitHelper.Tests;

public sealed class CredentialRequestReaderTests
{
    [Theory]
    [InlineData("protocol=https\nhost=example.com\n\n", "https", "example.com", "", "", "")]
    [InlineData("protocol=https\nhost=example.com", "https", "example.com", "", "", "")]
    [InlineData("protocol=https\nhost=example.com\n", "https", "example.com", "", "", "")]
    [InlineData("protocol=https\nhost=a.example\n\nhost=b.example\nno equals sign\n", "https", "a.example", "", "", "")]
    [InlineData("protocol=https\nhost=git.example.com:8443\npath=org/repo.git\nusername=alice\npassword=s3cret\n", "https", "git.example.com:8443", "org/repo.git", "alice", "s3cret")]
    [InlineData("protocol=https\nhost=h\nauthtype=Bearer\nephemeral=1\npassword_expiry_utc=5\n", "https", "h", "", "", "")]
    [InlineData("capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=h\nwwwauth[]=Basic realm=\"x\"\nwwwauth[]=Bearer\nstate[]=a\n", "https", "h", "", "", "")]
    [InlineData("protocol=https\nhost=h\nHost=evil.example\nUSERNAME=mallory\n", "https", "h", "", "", "")]
    [InlineData("protocol=https\nhost=h\npassword=a=b==\n", "https", "h", "", "", "a=b==")]
    [InlineData("protocol=https\nhost=h\nusername=\n", "https", "h", "", "", "")]
    [InlineData("=orphan value\nprotocol=https\nhost=h\n", "https", "h", "", "", "")]
    public void Read_WellFormedFields_ParsesRequest(string input, string protocol, string host, string path, string username, string password)
    {
        var request = Read(input).Request;

        Assert.Equal(new CredentialRequest(protocol, host, path, username, password), request);
    }

    [Theory]
    [InlineData("url=https://example.com\n", "https", "example.com", "", "", "")]
    [InlineData("url=https://example.com/\n", "https", "example.com", "", "", "")]
    [InlineData("url=https://alice@git.example.com:8443/org/repo.git\n", "https", "git.example.com:8443", "org/repo.git", "alice", "")]
    [InlineData("url=https://alice:pa%40ss@h/p\n", "https", "h", "p", "alice", "pa@ss")]
    [InlineData("url=http://h:8080/a//b/\n", "http", "h:8080", "a//b", "", "")]
    [InlineData("url=https://h/org%2Frepo%20x\n", "https", "h", "org/repo x", "", "")]
    [InlineData("url=https://h?x=1\n", "https", "h", "?x=1", "", "")]
    [InlineData("url=https://[::1]:3000/r\n", "https", "[::1]:3000", "r", "", "")]
    [InlineData("url=https://h/p\nprotocol=https\nhost=h\npath=p\n", "https", "h", "p", "", "")]
    [InlineData("host=h\nurl=https://h/p\n", "https", "h", "p", "", "")]
    [InlineData("url=https://h\nusername=bob\npath=given\n", "https", "h", "given", "bob", "")]
    public void Read_UrlForms_SplitsIntoFields(string input, string protocol, string host, string path, string username, string password)
    {
        var request = Read(input).Request;

        Assert.Equal(new CredentialRequest(protocol, host, path, username, password), request);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("host=h\n")]
    [InlineData("protocol=https\n")]
    [InlineData("protocol=https\nhost=\n")]
    [InlineData("\nprotocol=https\nhost=h\n")]
    [InlineData("protocol=cert\npath=/home/u/client.p12\n")]
    [InlineData("url=file:///srv/repo.git\n")]
    public void Read_MissingProtocolOrHost_MatchesNothingSilently(string input)
    {
        var result = Read(input);

        Assert.Null(result.Request);
        Assert.Null(result.NoMatchReason);
    }

    [Theory]
    [InlineData("protocol=https\nhost=a.example\nhost=b.example\n", "'host='")]
    [InlineData("protocol=https\nhost=a.example\nhost=a.example\n", "'host='")]
    [InlineData("protocol=https\nprotocol=http\nhost=h\n", "'protocol='")]
    [InlineData("protocol=https\nhost=h\nusername=a\nusername=b\n", "'username='")]
    [InlineData("protocol=https\nhost=h\npath=a\npath=b\n", "'path='")]
    [InlineData("protocol=https\nhost=h\npassword=a\npassword=b\n", "'password='")]
    [InlineData("url=https://a/\nurl=https://b/\n", "'url='")]
    [InlineData("url=https://a.example/p\nhost=b.example\n", "'host=' disagrees")]
    [InlineData("url=https://h\nprotocol=http\n", "'protocol=' disagrees")]
    [InlineData("url=https://alice@h\nusername=bob\n", "'username=' disagrees")]
    [InlineData("url=https://h/p\npath=\n", "'path=' disagrees")]
    public void Read_RepeatedOrConflictingKey_MatchesNothingWithReason(string input, string reasonFragment)
    {
        var result = Read(input);

        Assert.Null(result.Request);
        Assert.Contains(reasonFragment, result.NoMatchReason);
    }

    [Theory]
    [InlineData("protocol=https\nhost\n", "no '='")]
    [InlineData("protocol=https\nhost=h\njunk\n\n", "no '='")]
    [InlineData("protocol=https\r\nhost=h\r\n", "CR or NUL")]
    [InlineData("protocol=https\nhost=h\0.evil.example\n", "CR or NUL")]
    [InlineData("protocol=https\nhost=h\npassword=a\rb\n", "CR or NUL")]
    [InlineData("protocol=https\nhost=h\nwwwauth[]=Basic\0\n", "CR or NUL")]
    [InlineData("url=example.com/path\n", "no scheme")]
    [InlineData("url=://h\n", "no scheme")]
    [InlineData("url=https://a@b@h/\n", "more than one '@'")]
    [InlineData("url=https://h/p%0Ahost=evil\n", "CR, LF or NUL")]
    [InlineData("url=https://h%00.evil/\n", "CR, LF or NUL")]
    [InlineData("url=https://al%0Dice@h/\n", "CR, LF or NUL")]
    public void Read_MalformedInput_Throws(string input, string messageFragment)
    {
        var error = Assert.Throws<HelperException>(() => Read(input));

        Assert.Contains(messageFragment, error.Message);
    }

    [Fact]
    public void Read_MalformedInput_MessageDoesNotEchoValues()
    {
        var error = Assert.Throws<HelperException>(() => Read("protocol=https\nhost=h\npassword=hunter2\rx\n"));

        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public void Read_InputOverCap_Throws()
    {
        var input = "protocol=https\nhost=h\n\n" + new string('x', CredentialRequestReader.MaxInputChars);

        var error = Assert.Throws<HelperException>(() => Read(input));

        Assert.Contains("input exceeds", error.Message);
    }

    [Fact]
    public void Read_InputExactlyAtCap_Parses()
    {
        var head = "protocol=https\nhost=h\n\n";
        var input = head + new string('x', CredentialRequestReader.MaxInputChars - head.Length);

        Assert.NotNull(Read(input).Request);
    }

    [Fact]
    public void Read_TextAfterBlankLine_ConsumesAllInput()
    {
        using var stdin = new StringReader("protocol=https\nhost=h\n\ntrailing=1\nmore\n");

        CredentialRequestReader.Read(stdin);

        Assert.Equal(-1, stdin.Peek());
    }

    [Fact]
    public void Read_InvalidUtf8_Throws()
    {
        var bytes = Encoding.ASCII.GetBytes("protocol=https\nhost=h\nusername=").Concat(new byte[] { 0xC3, 0x28, (byte)'\n' }).ToArray();
        using var stdin = new StreamReader(new MemoryStream(bytes), new UTF8Encoding(false, throwOnInvalidBytes: true));

        var error = Assert.Throws<HelperException>(() => CredentialRequestReader.Read(stdin));

        Assert.Contains("not valid UTF-8", error.Message);
    }

    private static CredentialInput Read(string input)
    {
        using var reader = new StringReader(input);
        return CredentialRequestReader.Read(reader);
    }
}
