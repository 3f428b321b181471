using Xares.CommandLine;

namespace Xares.Sidecar.Tests.Cli;

/// <summary>Usage errors, --help and --version of xares-sidecar (the shared handling in src/Shared/CommandLine).</summary>
public sealed class CommandLineErrorTests
{
    [Theory]
    [InlineData(new[] { "bogus" }, "xares: unknown command 'bogus'", "xares-sidecar")]
    [InlineData(new[] { "stats" }, "xares: unknown command 'stats'; did you mean 'status'?", "xares-sidecar")]
    [InlineData(new string[0], "xares: a command is required: serve, status, install, uninstall, bootstrap, run, env, connect, completion", "xares-sidecar")]
    [InlineData(new[] { "status", "--jsn" }, "xares: status: unknown option '--jsn'; did you mean '--json'?", "xares-sidecar status")]
    [InlineData(new[] { "status", "extra" }, "xares: status: unexpected argument 'extra'", "xares-sidecar status")]
    [InlineData(new[] { "status", "--socket" }, "xares: --socket: expected a value", "xares-sidecar status")]
    [InlineData(new[] { "serve", "--socket-group", "abc" }, "xares: --socket-group: expected a whole number (0 or more), got 'abc'", "xares-sidecar serve")]
    [InlineData(new[] { "serve", "--allow-uid", "1000", "--allow-uid", "-1" }, "xares: --allow-uid: expected a whole number (0 or more), got '-1'", "xares-sidecar serve")]
    [InlineData(new[] { "env", "--shell", "tcsh" }, "xares: --shell: expected one of bash, fish, zsh, got 'tcsh'", "xares-sidecar env")]
    [InlineData(new[] { "run", "--mode", "steal", "--", "true" }, "xares: --mode: expected one of inject, proxy, got 'steal'", "xares-sidecar run")]
    [InlineData(new[] { "run" }, "xares: run: <command>: expected a value", "xares-sidecar run")]
    [InlineData(new[] { "completion", "csh" }, "xares: completion: <shell>: expected one of bash, fish, zsh, got 'csh'", "xares-sidecar completion")]
    [InlineData(new[] { "install", "--json" }, "xares: install: --json: only with --check (install itself prints what it writes)", "xares-sidecar install")]
    public async Task Run_BadCommandLine_OneLineThenHintExit2(string[] args, string line, string helpCommand)
    {
        var (exit, output, error) = await CliRunner.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Equal("", output);
        Assert.Equal($"{line}\nRun '{helpCommand} --help' for usage.\n", error.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("status", "--help")]
    [InlineData("completion", "--help")]
    public async Task Run_Help_PrintsUsageExit0(params string[] args)
    {
        var (exit, output, error) = await CliRunner.RunAsync(args);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.Equal("", error);
    }

    [Fact]
    public async Task Run_Version_PrintsVersionExit0()
    {
        var (exit, output, _) = await CliRunner.RunAsync(["--version"]);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Matches(@"^\d+\.\d+\.\d+", output);
    }

    [Theory]
    [InlineData("serve", "/run/xares/sidecar.sock")]
    [InlineData("serve", "/run/xares/bootstrap-token")]
    [InlineData("bootstrap", "/run/xares/bootstrap-token")]
    [InlineData("run", "proxy")]
    [InlineData("env", "bash")]
    [InlineData("install", "/etc")]
    public async Task Help_Default_ShownOnce(string command, string defaultValue)
    {
        var (_, output, _) = await CliRunner.RunAsync([command, "--help"]);

        // System.CommandLine appends "[default: …]"; a description must not say it again.
        var line = Assert.Single(output.Split('\n'), l => l.Contains($"[default: {defaultValue}]", StringComparison.Ordinal));
        Assert.Equal(1, CountOf(line, "default"));
    }

    private static int CountOf(string text, string value) => (text.Length - text.Replace(value, "", StringComparison.Ordinal).Length) / value.Length;
}
