using System.Diagnostics;
using System.Text.Json;
using Xares.CommandLine;
using Xares.Sidecar.Cli;
using Xares.Sidecar.Install;
using Xares.Sidecar.Tests.Fakes;
using BrokerGitTarget = Xares.Protos.Broker.V1.GitTarget;

namespace Xares.Sidecar.Tests.Install;

public sealed class InstallCommandTests : IAsyncLifetime
{
    private FakeBroker _broker = null!;
    private SidecarHarness _sidecar = null!;
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("xares-install-");
    private string GlobalConfig => Path.Combine(_home.FullName, ".gitconfig");
    private string Helper => Path.Combine(_home.FullName, "bin dir", "git-credential-xares");

    private Dictionary<string, string> GitEnvironment => new()
    {
        ["HOME"] = _home.FullName,
        ["GIT_CONFIG_GLOBAL"] = GlobalConfig,
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_TERMINAL_PROMPT"] = "0",
    };

    public async Task InitializeAsync()
    {
        _broker = await FakeBroker.StartAsync();
        _broker.State.Targets.Add(new BrokerGitTarget { Url = "https://github.com", UseHttpPath = false });
        _broker.State.Targets.Add(new BrokerGitTarget { Url = "https://git.example.com:8443", UseHttpPath = true });
        _sidecar = SidecarHarness.Start(_broker);
        await _sidecar.WaitConnectedAsync();
        // A user who already stores credentials in plaintext.
        await File.WriteAllTextAsync(GlobalConfig, "[credential]\n\thelper = store\n");
        Directory.CreateDirectory(Path.GetDirectoryName(Helper)!);
        await File.WriteAllTextAsync(Helper, "#!/bin/sh\n[ \"$1\" = get ] && printf 'username=alice\\npassword=xares-lease-secret\\n'\nexit 0\n");
        File.SetUnixFileMode(Helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public async Task DisposeAsync()
    {
        await _sidecar.DisposeAsync();
        await _broker.DisposeAsync();
        _home.Delete(recursive: true);
    }

    private string EnvDirectory => Path.Combine(_home.FullName, ".config", "xares");

    private InstallLayout Layout(bool noEnv = false) => new(
        new GitConfigWriter(GitConfigScope.Global, environment: GitEnvironment),
        new GitEnvironmentFiles(EnvDirectory),
        noEnv ? null : ShellHooks.ForUser(_home.FullName),
        new HelperChainCheck("git", GitEnvironment, _ => null));

    private async Task<string> InstallAsync()
    {
        var (exitCode, output, error) = await RunInstallAsync();
        Assert.Equal("", error);
        Assert.Equal(0, exitCode);
        return output;
    }

    private async Task<(int ExitCode, string Output, string Error)> RunInstallAsync(bool noEnv = false)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await InstallCommand.RunAsync(
            _sidecar.SocketPath,
            Helper,
            Layout(noEnv),
            new CliConsole(TextReader.Null, output, error),
            CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Install_Twice_WritesResetThenHelperOncePerTarget()
    {
        var output = await InstallAsync();
        await InstallAsync();

        Assert.Contains("configured https://github.com", output);
        var quoted = $"!'{Helper}'";
        Assert.Equal(["", quoted], await GitLinesAsync("config", "--global", "--get-all", "credential.https://github.com.helper"));
        Assert.Equal(["", quoted], await GitLinesAsync("config", "--global", "--get-all", "credential.https://git.example.com:8443.helper"));
        Assert.Equal(["true"], await GitLinesAsync("config", "--global", "--get-all", "credential.https://git.example.com:8443.useHttpPath"));
        Assert.Empty(await GitLinesAsync("config", "--global", "--get-all", "credential.https://github.com.useHttpPath"));
        Assert.Equal(["store"], await GitLinesAsync("config", "--global", "--get-all", "credential.helper"));
    }

    [Fact]
    public async Task Install_UserHasStoreHelper_StoreNeverReceivesXaresCredential()
    {
        await InstallAsync();

        var filled = await GitAsync("protocol=https\nhost=github.com\n\n", "credential", "fill");
        Assert.Contains("password=xares-lease-secret", filled);
        await GitAsync(filled + "\n", "credential", "approve");
        Assert.False(File.Exists(Path.Combine(_home.FullName, ".git-credentials")), "store received a Xares credential");

        // Control: for a host Xares does not serve, the user's store helper still works as before.
        await GitAsync("protocol=https\nhost=other.example\nusername=u\npassword=p\n\n", "credential", "approve");
        Assert.Contains("other.example", await File.ReadAllTextAsync(Path.Combine(_home.FullName, ".git-credentials")));
    }

    [Fact]
    public async Task Install_HelperMissing_RefusesBeforeTouchingConfig()
    {
        var before = await File.ReadAllTextAsync(GlobalConfig);
        using var output = new StringWriter();

        var error = await Assert.ThrowsAsync<SidecarException>(() => InstallCommand.RunAsync(
            _sidecar.SocketPath,
            Path.Combine(_home.FullName, "missing"),
            Layout(),
            new CliConsole(TextReader.Null, output, output),
            CancellationToken.None));

        Assert.Contains("--helper", error.Message);
        Assert.Equal(before, await File.ReadAllTextAsync(GlobalConfig));
    }

    [Fact]
    public async Task Install_StoreHelperAddedAfterwards_ShellThatLoadsGitEnvNeverHandsStoreTheToken()
    {
        await InstallAsync();
        // The leak rule h had: a helper configured after the Xares section joins its list.
        await AppendStoreHelperAsync();
        var approve = "protocol=https\nhost=github.com\nusername=alice\npassword=xares-lease-secret\n\n";

        await ShellGitAsync(approve, "credential approve");
        Assert.False(File.Exists(Path.Combine(_home.FullName, ".git-credentials")), "store received a Xares credential through a shell that loads git-env.sh");

        // Control: a process that does not load git-env.sh still has the leak the environment closes.
        await GitAsync(approve, "credential", "approve");
        Assert.Contains("xares-lease-secret", await File.ReadAllTextAsync(Path.Combine(_home.FullName, ".git-credentials")));
    }

    [Fact]
    public async Task Install_StoreHelperAfterwards_WarnsNamingFileAndLineButSucceeds()
    {
        await InstallAsync();
        await AppendStoreHelperAsync();

        var (exitCode, _, error) = await RunInstallAsync();
        // Install rewrote its sections at the end: the appended store now follows only the second host's.
        var line = Array.FindLastIndex(await File.ReadAllLinesAsync(GlobalConfig), l => l.Contains("store", StringComparison.Ordinal)) + 1;

        Assert.Equal(0, exitCode);
        Assert.Contains($"warning: {GlobalConfig}:{line}: helper 'store' would receive Xares tokens for https://git.example.com:8443", error);
    }

    [Fact]
    public async Task Install_NoEnvAndStoreHelperAfterwards_RefusesNamingFileAndLine()
    {
        Assert.Equal(0, (await RunInstallAsync(noEnv: true)).ExitCode);
        await AppendStoreHelperAsync();

        var (exitCode, _, error) = await RunInstallAsync(noEnv: true);
        var line = Array.FindLastIndex(await File.ReadAllLinesAsync(GlobalConfig), l => l.Contains("store", StringComparison.Ordinal)) + 1;

        Assert.Equal(1, exitCode);
        Assert.Contains($"xares: {GlobalConfig}:{line}: helper 'store' would receive Xares tokens for https://git.example.com:8443", error);
        Assert.False(File.Exists(Path.Combine(EnvDirectory, GitEnvironmentFiles.ScriptFileName)));
    }

    [Fact]
    public async Task Check_ForeignHelperFollows_FailsUnlessTheEnvironmentLoadsTheConf()
    {
        await InstallAsync();
        await AppendStoreHelperAsync();
        var layout = Layout();
        using var output = new StringWriter();

        Assert.Equal(ExitCodes.CheckFailed, await InstallCheck.RunAsync(layout, new CliConsole(TextReader.Null, output, output), json: false, CancellationToken.None));
        Assert.Contains($"{GlobalConfig}:", output.ToString());
        var loaded = layout with { Check = layout.Check.WithConf(layout.Files.ConfPath) };
        Assert.Equal(ExitCodes.Success, await InstallCheck.RunAsync(loaded, new CliConsole(TextReader.Null, output, output), json: false, CancellationToken.None));
    }

    [Fact]
    public async Task Check_Json_OneObjectNamingTheForeignHelper()
    {
        await InstallAsync();
        await AppendStoreHelperAsync();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await InstallCheck.RunAsync(Layout(), new CliConsole(TextReader.Null, output, error), json: true, CancellationToken.None);

        Assert.Equal(ExitCodes.CheckFailed, exitCode);
        Assert.Equal("", error.ToString());
        using var json = JsonDocument.Parse(output.ToString());
        var report = json.RootElement;
        Assert.False(report.GetProperty("ok").GetBoolean());
        Assert.Equal(Path.Combine(EnvDirectory, GitEnvironmentFiles.ScriptFileName), report.GetProperty("scriptFile").GetString());
        Assert.True(report.GetProperty("scriptPresent").GetBoolean());
        Assert.False(report.GetProperty("environmentLoadsConf").GetBoolean());
        Assert.Equal(JsonValueKind.Array, report.GetProperty("hooksMissing").ValueKind);
        var urls = report.GetProperty("urls").EnumerateArray().Select(u => u.GetString()).ToList();
        Assert.Contains("https://git.example.com:8443", urls);
        var foreign = report.GetProperty("foreignHelpers").EnumerateArray().ToList();
        // The [credential] section the store helper sits in applies to every served URL.
        Assert.Equal(urls, foreign.Select(f => f.GetProperty("url").GetString()));
        Assert.All(foreign, f => Assert.Equal("store", f.GetProperty("helper").GetString()));
        Assert.All(foreign, f => Assert.StartsWith($"{GlobalConfig}:", f.GetProperty("location").GetString()));
    }

    [Fact]
    public async Task Check_NothingInstalled_FailsTheCheckWithAnEmptyReport()
    {
        using var output = new StringWriter();

        var exitCode = await InstallCheck.RunAsync(Layout(), new CliConsole(TextReader.Null, output, TextWriter.Null), json: true, CancellationToken.None);

        Assert.Equal(ExitCodes.CheckFailed, exitCode);
        using var json = JsonDocument.Parse(output.ToString());
        Assert.False(json.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal(0, json.RootElement.GetProperty("urls").GetArrayLength());
    }

    [Fact]
    public async Task Uninstall_AfterInstall_RemovesExactlyWhatInstallWrote()
    {
        var profile = Path.Combine(_home.FullName, ".profile");
        await File.WriteAllTextAsync(profile, "export EDITOR=vi\n");
        var configBefore = await File.ReadAllTextAsync(GlobalConfig);
        await InstallAsync();
        Assert.Contains("git-env.sh", await File.ReadAllTextAsync(profile));
        Assert.Contains("git-env.sh", await File.ReadAllTextAsync(Path.Combine(_home.FullName, ".bashrc")));

        await UninstallCommand.RunAsync(Layout(), new CliConsole(TextReader.Null, TextWriter.Null, TextWriter.Null), CancellationToken.None);

        Assert.Equal("export EDITOR=vi\n", await File.ReadAllTextAsync(profile));
        Assert.False(File.Exists(Path.Combine(_home.FullName, ".bashrc")));
        Assert.False(Directory.Exists(EnvDirectory));
        Assert.Equal(configBefore, await File.ReadAllTextAsync(GlobalConfig));
    }

    /// <summary>A `store` helper in a new section after the Xares one, as a later tool or user edit leaves it.</summary>
    private Task AppendStoreHelperAsync() => File.AppendAllTextAsync(GlobalConfig, "[credential]\n\thelper = store\n");

    /// <summary>git run the way a workspace shell runs it: after sourcing the hook install wrote into ~/.profile.</summary>
    private async Task ShellGitAsync(string input, string gitArguments)
    {
        var script = $". {GitEnvironmentFiles.ShellQuote(Path.Combine(_home.FullName, ".profile"))}; exec git {gitArguments}";
        await GitAsync(input, ["-c", script], allowFailure: false, fileName: "sh");
    }

    [Theory]
    [InlineData("/usr/local/bin/git-credential-xares", "/usr/local/bin/git-credential-xares")]
    [InlineData("/opt/my tools/helper", "!'/opt/my tools/helper'")]
    [InlineData("/opt/it's/helper", "!'/opt/it'\\''s/helper'")]
    public void HelperValue_UnusualPaths_ShellQuoted(string path, string expected)
    {
        Assert.Equal(expected, GitConfigWriter.HelperValue(path));
    }

    private async Task<string[]> GitLinesAsync(params string[] arguments)
    {
        var output = await GitAsync(null, arguments, allowFailure: true);
        return output.Split('\n', StringSplitOptions.None)[..^1];
    }

    private Task<string> GitAsync(string? input, params string[] arguments) => GitAsync(input, arguments, allowFailure: false);

    private async Task<string> GitAsync(string? input, string[] arguments, bool allowFailure, string fileName = "git")
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in GitEnvironment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(input ?? "");
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(allowFailure || process.ExitCode == 0, $"git {string.Join(' ', arguments)} failed: {error}");
        return output;
    }
}
