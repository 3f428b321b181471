using System.Diagnostics;
using Xares.GitHelper.Tests.Support;
using Xares.Protos.Sidecar.V1;

namespace Xares.GitHelper.Tests;

public sealed class HelperCommandTests
{
    private const string Request = "protocol=https\nhost=git.example.com:8443\npath=org/repo.git\nusername=alice\n\n";
    private static readonly TimeSpan Patient = TimeSpan.FromSeconds(10);

    [Fact]
    public void Get_CredentialFound_PrintsExactlyThreeLines()
    {
        using var sidecar = FakeSidecar.Answering(Found("alice", "tok-123", 1_700_000_000));

        var result = Run(sidecar.SocketPath, Request, "get");

        Assert.Equal((0, "username=alice\npassword=tok-123\npassword_expiry_utc=1700000000\n", ""), result);
    }

    [Fact]
    public void Get_CredentialFound_SendsParsedFields()
    {
        using var sidecar = FakeSidecar.Answering(Found("alice", "tok", 1));

        Run(sidecar.SocketPath, "url=https://alice@git.example.com:8443/org/repo.git\n\n", "get");

        var request = Assert.Single(sidecar.Requests);
        Assert.Equal(SidecarRequest.RequestOneofCase.GitGet, request.RequestCase);
        Assert.Equal(
            new GitGetRequest { Protocol = "https", Host = "git.example.com:8443", Path = "org/repo.git", Username = "alice" },
            request.GitGet);
    }

    [Fact]
    public void Get_NoExpiryInAnswer_OmitsExpiryLine()
    {
        using var sidecar = FakeSidecar.Answering(Found("alice", "tok", 0));

        var (exitCode, stdout, _) = Run(sidecar.SocketPath, Request, "get");

        Assert.Equal((0, "username=alice\npassword=tok\n"), (exitCode, stdout));
    }

    [Fact]
    public void Get_NotFound_PrintsNothingAndSucceeds()
    {
        using var sidecar = FakeSidecar.Answering(new SidecarResponse { GitGet = new GitGetResponse { Found = false } });

        Assert.Equal((0, "", ""), Run(sidecar.SocketPath, Request, "get"));
    }

    [Fact]
    public void Get_SidecarError_PrintsOneStderrLineAndFails()
    {
        using var sidecar = FakeSidecar.Answering(new SidecarResponse
        {
            Error = new ErrorResponse { Code = "broker_unavailable", Message = "broker down\nsecond line" },
        });

        var (exitCode, stdout, stderr) = Run(sidecar.SocketPath, Request, "get");

        Assert.Equal((HelperCommand.Failure, ""), (exitCode, stdout));
        Assert.Equal("xares: sidecar error broker_unavailable: broker down second line\n", stderr);
    }

    [Fact]
    public void Get_SidecarNeverAnswers_TimesOutWithinConfiguredTimeout()
    {
        using var sidecar = FakeSidecar.NeverAnswering();
        var clock = Stopwatch.StartNew();

        var (exitCode, stdout, stderr) = Run(sidecar.SocketPath, Request, TimeSpan.FromMilliseconds(300), "get");

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2));
        Assert.Equal((HelperCommand.Failure, ""), (exitCode, stdout));
        Assert.Equal($"xares: sidecar at {sidecar.SocketPath} did not answer within 300 ms\n", stderr);
    }

    [Fact]
    public void Get_NoSocket_SaysSidecarNotReachable()
    {
        using var directory = new SocketDirectory();

        var (exitCode, stdout, stderr) = Run(directory.SocketPath, Request, "get");

        Assert.Equal((HelperCommand.Failure, ""), (exitCode, stdout));
        Assert.Equal($"xares: sidecar not reachable at {directory.SocketPath} (no socket at that path; is xares-sidecar running?)\n", stderr);
    }

    [Theory]
    [InlineData("alice", "tok\nusername=mallory")]
    [InlineData("alice", "tok\r")]
    [InlineData("alice", "tok\0")]
    [InlineData("alice\nprotocol=http", "tok")]
    public void Get_AnswerWithLineBreakOrNul_PrintsNothing(string username, string password)
    {
        using var sidecar = FakeSidecar.Answering(Found(username, password, 1_700_000_000));

        var (exitCode, stdout, stderr) = Run(sidecar.SocketPath, Request, "get");

        Assert.Equal((HelperCommand.Failure, ""), (exitCode, stdout));
        Assert.Equal("xares: sidecar answer contains a CR, LF or NUL character; not passing it to git\n", stderr);
    }

    [Fact]
    public void Get_AnswerOfWrongKind_PrintsNothingAndFails()
    {
        using var sidecar = FakeSidecar.Answering(new SidecarResponse { GitErase = new GitEraseResponse { Reported = true } });

        var (exitCode, stdout, stderr) = Run(sidecar.SocketPath, Request, "get");

        Assert.Equal((HelperCommand.Failure, ""), (exitCode, stdout));
        Assert.Equal("xares: sidecar sent an unexpected answer (GitErase)\n", stderr);
    }

    [Theory]
    [InlineData("protocol=https\nhost=a.example\nhost=b.example\n\n", "xares: request repeats 'host='; matching nothing\n")]
    [InlineData("url=https://a.example/\nhost=b.example\n\n", "xares: 'host=' disagrees with 'url='; matching nothing\n")]
    [InlineData("host=h\n\n", "")]
    [InlineData("protocol=https\n\n", "")]
    public void Get_RequestThatMatchesNothing_PrintsNothingAndContactsNothing(string input, string expectedStderr)
    {
        using var sidecar = FakeSidecar.Answering(Found("alice", "tok", 1));

        var result = Run(sidecar.SocketPath, input, "get");

        Assert.Equal((0, "", expectedStderr), result);
        Assert.Equal(0, sidecar.ConnectionCount);
    }

    [Theory]
    [InlineData("protocol=https\nhost=h\nnot a pair\n\n", "xares: malformed input line (no '='); expected key=value\n")]
    [InlineData("protocol=https\nhost=h\npassword=hunter2\0\n\n", "xares: input line contains a CR or NUL character\n")]
    public void Get_MalformedInput_PrintsOneStderrLineAndContactsNothing(string input, string expectedStderr)
    {
        using var sidecar = FakeSidecar.Answering(Found("alice", "tok", 1));

        Assert.Equal((HelperCommand.Failure, "", expectedStderr), Run(sidecar.SocketPath, input, "get"));
        Assert.Equal(0, sidecar.ConnectionCount);
    }

    [Fact]
    public void Get_InputOverCap_PrintsOneStderrLine()
    {
        var input = Request + new string('x', CredentialRequestReader.MaxInputChars);

        Assert.Equal((HelperCommand.Failure, "", "xares: input exceeds 65536 characters\n"), Run("/nonexistent/s.sock", input, "get"));
    }

    [Fact]
    public void Get_TextAfterBlankLine_ReadsAllOfStdin()
    {
        using var sidecar = FakeSidecar.Answering(Found("alice", "tok", 1));
        using var stdin = new StringReader(Request + "extra=1\n");

        HelperCommand.Run(["get"], stdin, TextWriter.Null, TextWriter.Null, sidecar.SocketPath, Patient);

        Assert.Equal(-1, stdin.Peek());
    }

    [Fact]
    public void Erase_WithPassword_SendsPasswordAndParsedFields()
    {
        using var sidecar = FakeSidecar.Answering(new SidecarResponse { GitErase = new GitEraseResponse { Reported = true } });

        var result = Run(sidecar.SocketPath, Request.TrimEnd('\n') + "\npassword=tok-rejected\nwwwauth[]=Basic realm=\"x\"\n\n", "erase");

        Assert.Equal((0, "", ""), result);
        var request = Assert.Single(sidecar.Requests);
        Assert.Equal(
            new GitEraseRequest { Protocol = "https", Host = "git.example.com:8443", Path = "org/repo.git", Username = "alice", Password = "tok-rejected" },
            request.GitErase);
    }

    [Fact]
    public void Erase_WithoutPassword_ContactsNothing()
    {
        using var sidecar = FakeSidecar.Answering(new SidecarResponse { GitErase = new GitEraseResponse() });

        Assert.Equal((0, "", ""), Run(sidecar.SocketPath, Request, "erase"));
        Assert.Equal(0, sidecar.ConnectionCount);
    }

    [Fact]
    public void Erase_SidecarError_PrintsOneStderrLineWithoutThePassword()
    {
        using var sidecar = FakeSidecar.Answering(new SidecarResponse { Error = new ErrorResponse { Code = "not_bootstrapped", Message = "no session" } });

        var result = Run(sidecar.SocketPath, "protocol=https\nhost=h\npassword=tok-rejected\n\n", "erase");

        Assert.Equal((HelperCommand.Failure, "", "xares: sidecar error not_bootstrapped: no session\n"), result);
    }

    [Fact]
    public void Store_AnyInput_ReadsItAndContactsNothing()
    {
        using var sidecar = FakeSidecar.Answering(Found("alice", "tok", 1));
        using var stdin = new StringReader("protocol=https\nhost=h\nusername=alice\npassword=tok\npassword_expiry_utc=1\n\n");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exitCode = HelperCommand.Run(["store"], stdin, stdout, stderr, sidecar.SocketPath, Patient);

        Assert.Equal((0, "", "", -1), (exitCode, stdout.ToString(), stderr.ToString(), stdin.Peek()));
        Assert.Equal(0, sidecar.ConnectionCount);
    }

    [Theory]
    [InlineData("capability")]
    [InlineData("approve")]
    public void Run_UnknownOperation_IgnoresItSilently(string operation) =>
        Assert.Equal((0, "", ""), Run("/nonexistent/s.sock", Request, operation));

    private static SidecarResponse Found(string username, string password, long expiry) =>
        new() { GitGet = new GitGetResponse { Found = true, Username = username, Password = password, PasswordExpiryUtc = expiry } };

    private static (int ExitCode, string Stdout, string Stderr) Run(string socketPath, string input, params string[] args) =>
        Run(socketPath, input, Patient, args);

    private static (int ExitCode, string Stdout, string Stderr) Run(string socketPath, string input, TimeSpan timeout, params string[] args)
    {
        using var stdin = new StringReader(input);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = HelperCommand.Run(args, stdin, stdout, stderr, socketPath, timeout);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }
}
