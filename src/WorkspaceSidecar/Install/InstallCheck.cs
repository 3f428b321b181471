using Xares.CommandLine;
using Xares.Sidecar.Cli;

namespace Xares.Sidecar.Install;

/// <summary>`xares-sidecar install --check --json`: what the check found (docs/cli.md).</summary>
internal sealed record InstallCheckReport(
    bool Ok,
    string ConfFile,
    string ScriptFile,
    IReadOnlyList<string> Urls,
    bool ScriptPresent,
    bool EnvironmentLoadsConf,
    IReadOnlyList<string> HooksMissing,
    IReadOnlyList<ForeignHelper> ForeignHelpers);

/// <summary>
/// `install --check`: writes nothing; for the URLs the last install recorded, reports every helper
/// git would run next to Xares in this very environment (exit 5), e.g. in CI of a workspace image:
/// run it the way the workspace's processes start (a login shell, the IDE server's environment).
/// </summary>
internal static class InstallCheck
{
    public static async Task<int> RunAsync(InstallLayout layout, CliConsole console, bool json, CancellationToken cancellationToken)
    {
        var report = await CheckAsync(layout, cancellationToken);
        if (json)
        {
            await CliJson.WriteAsync(console.Out, report, CliJson.Default.InstallCheckReport);
        }
        else
        {
            await WriteAsync(report, console);
        }
        return report.Ok ? ExitCodes.Success : ExitCodes.CheckFailed;
    }

    internal static async Task<InstallCheckReport> CheckAsync(InstallLayout layout, CancellationToken cancellationToken)
    {
        var urls = layout.Files.ReadUrls().Select(u => u.Url).ToList();
        var scriptPresent = File.Exists(layout.Files.ScriptPath);
        var foreign = urls.Count == 0 ? [] : await layout.Check.FindAsync(urls, cancellationToken);
        return new InstallCheckReport(
            urls.Count > 0 && scriptPresent && foreign.Count == 0,
            layout.Files.ConfPath,
            layout.Files.ScriptPath,
            urls,
            scriptPresent,
            layout.Check.IncludesConf(layout.Files.ConfPath),
            [.. layout.Hooks?.Missing(layout.Files.ScriptPath) ?? []],
            foreign);
    }

    private static async Task WriteAsync(InstallCheckReport report, CliConsole console)
    {
        if (report.Urls.Count == 0)
        {
            await console.Error.WriteLineAsync($"xares: {report.ConfFile} is missing or lists no URL: run `xares-sidecar install`");
            return;
        }
        if (!report.ScriptPresent)
        {
            await console.Error.WriteLineAsync($"xares: {report.ScriptFile} is missing: run `xares-sidecar install`");
        }
        foreach (var file in report.HooksMissing)
        {
            await console.Out.WriteLineAsync($"note: {file} does not load {report.ScriptFile}");
        }
        await console.Out.WriteLineAsync(report.EnvironmentLoadsConf
            ? $"this environment loads {report.ConfFile}"
            : $"this environment does not load {report.ConfFile} (GIT_CONFIG_COUNT); git here relies on the config-file sections alone");
        foreach (var foreign in report.ForeignHelpers)
        {
            await console.Error.WriteLineAsync($"xares: {foreign.Location}: helper '{foreign.Helper}' would receive Xares tokens for {foreign.Url}");
        }
        if (report.Ok)
        {
            await console.Out.WriteLineAsync($"ok: only Xares answers and stores for {string.Join(", ", report.Urls)}");
        }
    }
}
