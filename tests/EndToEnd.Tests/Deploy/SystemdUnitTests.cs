using System.Text.RegularExpressions;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.Deploy;

/// <summary>
/// deploy/systemd/xares-broker.service checked by systemd's own tools (no running systemd needed):
/// `systemd-analyze verify` (syntax, known keys, executable present) and `systemd-analyze security
/// --offline` (the hardening score), plus the links between the unit and the broker's settings.
/// </summary>
public sealed partial class SystemdUnitTests : IDisposable
{
    private static readonly string Unit = Path.Combine(Artifacts.RepositoryRoot, "deploy", "systemd", "xares-broker.service");
    private readonly ScratchDirectory directory = ScratchDirectory.Create("xunit-");

    [Fact]
    public async Task Verify_Unit_HasNoWarnings()
    {
        var result = await AnalyzeAsync("verify", Unit).ShouldSucceedAsync();
        Assert.Equal("", result.Stderr.Trim());
    }

    [Fact]
    public async Task Verify_UnitWithATypo_IsCaught()
    {
        // The check above means something only if systemd-analyze reads this file's keys.
        var broken = Path.Combine(directory.Path, "xares-broker.service");
        await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(Unit)).Replace("NoNewPrivileges=", "NoNewPrivilege="));
        var result = await AnalyzeAsync("verify", broken);
        Assert.Contains("Unknown key 'NoNewPrivilege'", result.Stderr);
    }

    [Fact]
    public async Task Security_Unit_ScoresAsWellHardened()
    {
        // Exposure 0-10 (systemd's scale); the threshold is in tenths: above 2.0 fails.
        var result = await AnalyzeAsync("security", "--offline=true", "--threshold=20", "--no-pager", Unit).ShouldSucceedAsync();
        Assert.Matches("Overall exposure level for xares-broker.service: [01]\\.[0-9] OK", result.Stdout);
    }

    [Fact]
    public void Unit_MasterKeyAndReload_WiredToTheBroker()
    {
        var text = File.ReadAllText(Unit);
        Assert.Equal("xares", Setting(text, "User"));
        Assert.Equal("strict", Setting(text, "ProtectSystem"));
        Assert.Equal("yes", Setting(text, "NoNewPrivileges"));
        Assert.Equal("yes", Setting(text, "PrivateTmp"));
        Assert.Equal("yes", Setting(text, "ProtectHome"));
        Assert.Equal("xares", Setting(text, "StateDirectory"));
        // The credential's name is the file the broker reads from $CREDENTIALS_DIRECTORY (%d).
        var credential = Setting(text, "LoadCredential").Split(':')[0];
        Assert.Contains($"XARES_MASTER_KEY_FILE=%d/{credential}", Setting(text, "Environment"));
        Assert.Equal("/bin/kill -HUP $MAINPID", Setting(text, "ExecReload"));
        Assert.Contains("--config /etc/xares/broker.json", Setting(text, "ExecStart"));
    }

    private static string Setting(string unit, string key) =>
        Regex.Matches(unit, $"^{key}=(.*)$", RegexOptions.Multiline) is { Count: > 0 } found
            ? string.Join(' ', found.Select(m => m.Groups[1].Value.Trim()))
            : throw new Xunit.Sdk.XunitException($"{key}= is not in the unit");

    private Task<CommandResult> AnalyzeAsync(params string[] arguments)
    {
        Assert.True(File.Exists("/usr/bin/systemd-analyze"), "systemd-analyze is missing: scripts/install-prerequisites.sh installs Debian's systemd.");
        return ProcessRunner.RunAsync("/usr/bin/systemd-analyze", arguments, ProcessRunner.BaseEnvironment(directory.Path),
            Path.Combine(directory.Logs, "systemd-analyze.log"), directory.Path);
    }

    public void Dispose() => directory.Dispose();
}
