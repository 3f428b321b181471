using System.CommandLine;
using System.Text;
using Xares.Sidecar.Run;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Cli;

/// <summary>
/// `xares-sidecar env [--tool NAME] --shell bash|zsh|fish`: prints export lines for `eval`. The
/// weaker option: the real keys end up in the shell's environment (and every process it starts),
/// so it always uses inject semantics and the broker audits it as such. Prefer `run`.
/// </summary>
internal static class EnvCommand
{
    public static Command Create(SidecarCli cli)
    {
        var socket = cli.SocketOption();
        var tool = RunCommand.ToolOption();
        var shell = new Option<string>("--shell") { Description = "The shell whose syntax to print", DefaultValueFactory = _ => "bash" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var command = new Command("env", "Print export lines with the real keys for eval (weaker than run: the keys stay in your shell)") { tool, shell, socket };
        command.SetAction(cli.Guard(async (parse, cancellationToken) =>
        {
            var sidecar = new SidecarAiClient(parse.GetRequiredValue(socket));
            var plans = ToolPlan.Create(ToolCatalogue.Load(cli.Environment), parse.GetValue(tool), await sidecar.ListAsync(cancellationToken), inject: true);
            var environment = await RunEnvironment.InjectAsync(plans, sidecar, cancellationToken);
            await cli.Console.Out.WriteAsync(Format(environment.Variables, parse.GetRequiredValue(shell)));
            return 0;
        }));
        return command;
    }

    internal static string Format(IReadOnlyDictionary<string, string> variables, string shell)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in variables.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            text.Append(shell == "fish"
                ? $"set -gx {name} '{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}';\n"
                : $"export {name}='{value.Replace("'", "'\\''", StringComparison.Ordinal)}';\n");
        }
        return text.ToString();
    }
}
