using Xares.Sidecar.Cli;

namespace Xares.Sidecar.Install;

/// <summary>
/// `install --check`: writes nothing; for the URLs the last install recorded, reports every helper
/// git would run next to Xares in this very environment (exit 1), e.g. in CI of a workspace image:
/// run it the way the workspace's processes start (a login shell, the IDE server's environment).
/// </summary>
internal static class InstallCheck
{
    public static async Task<int> RunAsync(InstallLayout layout, CliConsole console, CancellationToken cancellationToken)
    {
        var problems = 0;
        var urls = layout.Files.ReadUrls().Select(u => u.Url).ToList();
        if (urls.Count == 0)
        {
            await console.Error.WriteLineAsync($"xares: {layout.Files.ConfPath} is missing or lists no URL: run `xares-sidecar install`");
            return 1;
        }
        if (!File.Exists(layout.Files.ScriptPath))
        {
            await console.Error.WriteLineAsync($"xares: {layout.Files.ScriptPath} is missing: run `xares-sidecar install`");
            problems++;
        }
        foreach (var file in layout.Hooks?.Missing(layout.Files.ScriptPath) ?? [])
        {
            await console.Out.WriteLineAsync($"note: {file} does not load {layout.Files.ScriptPath}");
        }
        var loaded = layout.Check.IncludesConf(layout.Files.ConfPath);
        await console.Out.WriteLineAsync(loaded
            ? $"this environment loads {layout.Files.ConfPath}"
            : $"this environment does not load {layout.Files.ConfPath} (GIT_CONFIG_COUNT); git here relies on the config-file sections alone");
        foreach (var foreign in await layout.Check.FindAsync(urls, cancellationToken))
        {
            await console.Error.WriteLineAsync($"xares: {foreign.Location}: helper '{foreign.Helper}' would receive Xares tokens for {foreign.Url}");
            problems++;
        }
        if (problems == 0)
        {
            await console.Out.WriteLineAsync($"ok: only Xares answers and stores for {string.Join(", ", urls)}");
        }
        return problems == 0 ? 0 : 1;
    }
}
