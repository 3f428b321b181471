using Google.Protobuf;
using Xares.Protos.Sidecar.V1;

namespace Xares.GitHelper.Tests;

/// <summary>Every helper type that carries a password, formatted the ways an error line would: the password never shows.</summary>
public sealed class SecretFormattingTests
{
    private const string Secret = "xsecret-KnownValue-7f3a9c";

    public static TheoryData<string, object> SecretBearing() => new()
    {
        { nameof(CredentialRequest), new CredentialRequest("https", "git.example.test", "org/repo.git", "alice", Secret) },
        { nameof(GitGetResponse), new GitGetResponse { Username = "alice", Password = Secret } },
        { nameof(GitEraseRequest), new GitEraseRequest { Host = "git.example.test", Password = Secret } },
        { nameof(SidecarRequest), new SidecarRequest { GitErase = new GitEraseRequest { Password = Secret } } },
        { nameof(GitForeignHelperRequest), new SidecarRequest { GitForeignHelper = new GitForeignHelperRequest { Host = "git.example.test", Password = Secret, Operation = "store" } } },
        { nameof(SidecarResponse), new SidecarResponse { GitGet = new GitGetResponse { Password = Secret } } },
    };

    [Theory]
    [MemberData(nameof(SecretBearing))]
    public void Format_SecretBearingType_NeverShowsSecret(string what, object value)
    {
        var texts = new List<string> { $"{value}", value.ToString()! };
        if (value is IMessage message)
        {
            texts.Add(JsonFormatter.ToDiagnosticString(message));
        }

        Assert.All(texts, text => Assert.False(text.Contains(Secret, StringComparison.Ordinal), $"{what} printed its password: {text}"));
    }

    [Fact]
    public void Run_EraseWithMalformedPasswordLine_ErrorNeverShowsPassword()
    {
        var stderr = new StringWriter();

        var exitCode = HelperCommand.Run(["erase"], new StringReader($"protocol=https\nhost=git.example.test\npassword={Secret}\0\n\n"),
            TextWriter.Null, stderr, "/nonexistent/xares.sock", TimeSpan.FromSeconds(1));

        Assert.Equal(HelperCommand.Failure, exitCode);
        Assert.DoesNotContain(Secret, stderr.ToString(), StringComparison.Ordinal);
    }
}
