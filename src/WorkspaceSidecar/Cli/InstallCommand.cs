using System.CommandLine;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Install;
using Xares.Sidecar.Local;

namespace Xares.Sidecar.Cli;

internal static class InstallCommand
{
    public const string HelperFileName = "git-credential-xares";

    public static Command Create(SidecarCli cli)
    {
        var socket = cli.SocketOption();
        var system = new Option<bool>("--system") { Description = "Write the system git config instead of the invoking user's global one" };
        var helper = new Option<string?>("--helper")
        {
            Description = $"Path of {HelperFileName} (default: next to this program)",
        };
        var command = new Command("install", "Configure git to ask Xares for the hosts this workspace may use") { socket, system, helper };
        command.SetAction(cli.Guard(async (parse, cancellationToken) =>
        {
            var writer = new GitConfigWriter(parse.GetValue(system) ? GitConfigScope.System : GitConfigScope.Global);
            var helperPath = parse.GetValue(helper) ?? Path.Combine(AppContext.BaseDirectory, HelperFileName);
            await RunAsync(parse.GetRequiredValue(socket), helperPath, writer, cli.Console, cancellationToken);
            return 0;
        }));
        return command;
    }

    /// <summary>Asks the sidecar for the git targets and writes, per target, the helper reset and the Xares helper.</summary>
    internal static async Task RunAsync(string socketPath, string helperPath, GitConfigWriter writer, CliConsole console, CancellationToken cancellationToken)
    {
        var fullHelperPath = Path.GetFullPath(helperPath);
        if (!File.Exists(fullHelperPath))
        {
            throw new SidecarException($"the git credential helper is not at {fullHelperPath}; pass --helper PATH");
        }
        var response = await LocalSocketClient.SendAsync(
            socketPath,
            new SidecarRequest { GitTargets = new GitTargetsRequest() },
            verifyPeer: null,
            cancellationToken);
        var targets = LocalSocketClient.Expect(response, SidecarResponse.ResponseOneofCase.GitTargets).GitTargets.Targets;
        if (targets.Count == 0)
        {
            await console.Out.WriteLineAsync("the broker lists no git hosts for this workspace; nothing to configure");
            return;
        }
        var helperCommand = GitConfigWriter.HelperValue(fullHelperPath);
        foreach (var target in targets)
        {
            if (!GitConfigWriter.IsConfigurableUrl(target.Url))
            {
                await console.Error.WriteLineAsync($"xares: skipping unusable git target '{target.Url}'");
                continue;
            }
            await writer.ConfigureAsync(target.Url, helperCommand, target.UseHttpPath, cancellationToken);
            await console.Out.WriteLineAsync($"configured {target.Url}{(target.UseHttpPath ? " (useHttpPath)" : "")}");
        }
    }
}
