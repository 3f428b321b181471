using Xares.CommandLine;

namespace Xares.GitHelper.Tests;

public sealed class HelperUsageTests
{
    [Theory]
    [InlineData("get")]
    [InlineData("store")]
    [InlineData("erase")]
    [InlineData("capability")] // an operation git may add later: HelperCommand ignores it, as gitcredentials(7) asks
    public void TryAnswer_OneOperationWord_LeavesItToTheProtocol(string operation) =>
        Assert.Equal((null, "", ""), Answer(operation));

    [Theory]
    [InlineData("", "xares: an operation is required: get, store or erase")]
    [InlineData("--timeout", "xares: unknown option '--timeout'")]
    [InlineData("--timeout get", "xares: expected one operation (get, store or erase), got 2 arguments")]
    [InlineData("get extra", "xares: expected one operation (get, store or erase), got 2 arguments")]
    public void TryAnswer_NotAGitCall_OneLineAndHintExit2(string commandLine, string line) =>
        Assert.Equal(((int?)ExitCodes.Usage, "", $"{line}\nRun 'git-credential-xares --help' for usage.\n"),
            Answer(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)));

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void TryAnswer_Help_UsageOnStdoutExit0(string option)
    {
        var (exit, stdout, stderr) = Answer(option);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("Usage: git-credential-xares get|store|erase", stdout, StringComparison.Ordinal);
        Assert.Contains(HelperEnvironment.SocketVariable, stdout, StringComparison.Ordinal);
        Assert.Equal("", stderr);
    }

    [Fact]
    public void TryAnswer_Version_OneLineExit0()
    {
        var (exit, stdout, _) = Answer("--version");

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Matches(@"^\d+\.\d+\.\d+\S*\n$", stdout);
    }

    private static (int? Exit, string Stdout, string Stderr) Answer(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = HelperUsage.TryAnswer(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
