using System.CommandLine;
using Xares.Sidecar.Install;

namespace Xares.Sidecar.Cli;

internal static class UninstallCommand
{
    public static Command Create(SidecarCli cli)
    {
        var (system, envDir, etcDir) = InstallCommand.LayoutOptions();
        var command = new Command("uninstall", "Remove what `install` wrote: the Xares git config sections, the environment files and the shell hooks")
        {
            system, envDir, etcDir,
        };
        command.SetAction(cli.Guard(async (parse, cancellationToken) =>
        {
            var layout = InstallLayout.Create(parse.GetValue(system), parse.GetValue(envDir), parse.GetRequiredValue(etcDir), noEnv: false, cli.Environment);
            await RunAsync(layout, cli.Console, cancellationToken);
            return 0;
        }));
        return command;
    }

    internal static async Task RunAsync(InstallLayout layout, CliConsole console, CancellationToken cancellationToken)
    {
        foreach (var url in await layout.Writer.UnconfigureAsync(cancellationToken))
        {
            await console.Out.WriteLineAsync($"removed {url}");
        }
        layout.Hooks?.Remove();
        layout.Files.Remove();
        await console.Out.WriteLineAsync($"removed {layout.Files.Directory} files and shell hooks");
    }
}
