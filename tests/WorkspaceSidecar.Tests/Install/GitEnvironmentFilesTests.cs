using System.Diagnostics;
using Xares.Sidecar.Install;

namespace Xares.Sidecar.Tests.Install;

public sealed class GitEnvironmentFilesTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("xares-env-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task Script_SourcedTwiceAfterOtherEntries_AppendsTheIncludeOnce()
    {
        var files = new GitEnvironmentFiles(Path.Combine(_directory.FullName, "it's here"));
        files.Write([new ServedUrl("https://h.example", UseHttpPath: true)], "!'/opt/x/git-credential-xares'");
        var script = GitEnvironmentFiles.ShellQuote(files.ScriptPath);

        var output = await ShAsync($"export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.pager GIT_CONFIG_VALUE_0=cat; . {script}; . {script}; env | grep -E '^GIT_CONFIG_(COUNT|KEY|VALUE)' | sort");

        Assert.Equal(
            ["GIT_CONFIG_COUNT=2", "GIT_CONFIG_KEY_0=core.pager", "GIT_CONFIG_KEY_1=include.path", "GIT_CONFIG_VALUE_0=cat", $"GIT_CONFIG_VALUE_1={files.ConfPath}"],
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Conf_IncludedAsCommandScope_GitReadsResetHelperAndUseHttpPath()
    {
        var files = new GitEnvironmentFiles(_directory.FullName);
        files.Write([new ServedUrl("https://h.example", UseHttpPath: true)], "!'/opt/my tools/git-credential-xares'");

        var output = await ShAsync($". {GitEnvironmentFiles.ShellQuote(files.ScriptPath)}; git config --show-scope --get-regexp '^credential\\.'");

        Assert.Equal(
            ["command\tcredential.https://h.example.helper ", "command\tcredential.https://h.example.helper !'/opt/my tools/git-credential-xares'", "command\tcredential.https://h.example.usehttppath true"],
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal([new ServedUrl("https://h.example", true)], files.ReadUrls());
    }

    private async Task<string> ShAsync(string script)
    {
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment.Remove("GIT_CONFIG_COUNT");
        start.Environment["HOME"] = _directory.FullName;
        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, error);
        return output;
    }
}
