using Xares.Tests.Shared;

namespace Xares.GitHelper.Tests;

/// <summary>Every helper type that carries a password, formatted the ways an error line would: the password never shows.</summary>
public sealed class SecretFormattingTests
{
    private const string Secret = SecretFormatting.Secret;

    public static TheoryData<string, object> SecretBearing()
    {
        var data = new TheoryData<string, object>
        {
            { nameof(CredentialRequest), new CredentialRequest("https", "git.example.test", "org/repo.git", "alice", Secret) },
        };
        foreach (var (what, value) in LocalProtoSecrets.Messages())
        {
            data.Add(what, value);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SecretBearing))]
    public void Format_SecretBearingType_NeverShowsSecret(string what, object value)
    {
        SecretFormatting.AssertNeverShows(what, value);
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
