using System.Diagnostics;
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

    private async Task<string> InstallAsync()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        await InstallCommand.RunAsync(
            _sidecar.SocketPath,
            Helper,
            new GitConfigWriter(GitConfigScope.Global, environment: GitEnvironment),
            new CliConsole(TextReader.Null, output, error),
            CancellationToken.None);
        Assert.Equal("", error.ToString());
        return output.ToString();
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
            new GitConfigWriter(GitConfigScope.Global, environment: GitEnvironment),
            new CliConsole(TextReader.Null, output, output),
            CancellationToken.None));

        Assert.Contains("--helper", error.Message);
        Assert.Equal(before, await File.ReadAllTextAsync(GlobalConfig));
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

    private async Task<string> GitAsync(string? input, string[] arguments, bool allowFailure)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
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
