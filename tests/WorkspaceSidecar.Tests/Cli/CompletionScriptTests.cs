using Xares.CommandLine;
using Xares.Sidecar.Cli;
using Xares.Tests.Shared;

namespace Xares.Sidecar.Tests.Cli;

/// <summary>`xares-sidecar completion bash|zsh|fish`: the printed scripts, run in the real shells.</summary>
public sealed class CompletionScriptTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("xares-completion-");

    public void Dispose() => directory.Delete(recursive: true);

    [Theory]
    [InlineData(new[] { "st" }, new[] { "status" })]
    [InlineData(new[] { "" }, new[] { "serve", "status", "install", "uninstall", "bootstrap", "run", "env", "connect", "completion", "--help", "-h", "--version" })]
    [InlineData(new[] { "status", "--" }, new[] { "--socket", "--json", "--help" })]
    [InlineData(new[] { "env", "--shell", "" }, new[] { "bash", "fish", "zsh" })]
    [InlineData(new[] { "run", "--mode", "p" }, new[] { "proxy" })]
    [InlineData(new[] { "completion", "" }, new[] { "bash", "fish", "zsh", "--help", "-h" })]
    [InlineData(new[] { "serve", "--socket-group", "" }, new string[0])]
    [InlineData(new[] { "run", "--", "st" }, new string[0])]
    public async Task Bash_CompletesFromTheCommandTree(string[] words, string[] expected)
    {
        var script = await ScriptAsync("bash");

        Assert.Equal(expected, await ShellCompletion.BashAsync(script, SidecarCli.Program, words));
    }

    [Fact]
    public async Task Bash_PathOption_CompletesFiles()
    {
        var script = await ScriptAsync("bash");
        var file = Path.Combine(directory.FullName, "sidecar.sock");
        await File.WriteAllTextAsync(file, "");

        Assert.Equal([file], await ShellCompletion.BashAsync(script, SidecarCli.Program, "status", "--socket", Path.Combine(directory.FullName, "side")));
    }

    [Theory]
    [InlineData(new[] { "st" }, new[] { "serve", "status", "install", "uninstall", "bootstrap", "run", "env", "connect", "completion", "--help", "-h", "--version" })]
    [InlineData(new[] { "env", "--shell", "" }, new[] { "bash", "fish", "zsh" })]
    [InlineData(new[] { "status", "--socket", "" }, new[] { "<files>" })]
    [InlineData(new[] { "status", "" }, new[] { "--socket", "--json", "--help", "-h" })]
    public async Task Zsh_OffersWhatTheCommandTakes(string[] words, string[] expected)
    {
        // zsh filters by the typed prefix itself, so the script offers every candidate of the command.
        var script = await ScriptAsync("zsh");

        Assert.Equal(expected, await ShellCompletion.ZshAsync(script, SidecarCli.Program, words));
    }

    [Theory]
    [InlineData(new[] { "st" }, new[] { "status" })]
    [InlineData(new[] { "env", "--shell", "" }, new[] { "bash", "zsh", "fish" })]
    [InlineData(new[] { "status", "--j" }, new[] { "--json" })]
    public async Task Fish_CompletesFromTheCommandTree(string[] words, string[] expected)
    {
        var script = await ScriptAsync("fish");

        Assert.Equal(expected.Order(), (await ShellCompletion.FishAsync(script, SidecarCli.Program, words)).Order());
    }

    private async Task<string> ScriptAsync(string shell)
    {
        var (exit, output, error) = await CliRunner.RunAsync(["completion", shell]);
        Assert.True(exit == ExitCodes.Success, error);
        var file = Path.Combine(directory.FullName, $"completion.{shell}");
        await File.WriteAllTextAsync(file, output);
        return file;
    }
}
