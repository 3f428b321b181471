using System.CommandLine;
using Xares.Sidecar.Ai;
using Xares.Sidecar.Native;
using Xares.Sidecar.Run;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Tools;

namespace Xares.Sidecar.Cli;

/// <summary>
/// `xares-sidecar run [--tool NAME] [--mode proxy|inject] -- CMD ARGS…`: runs an AI tool with its
/// provider keys. Proxy mode (default) gives it loopback proxies and placeholder keys, so the
/// real key never enters its process; inject mode puts the real key in its environment.
/// </summary>
internal static class RunCommand
{
    public static Command Create(SidecarCli cli)
    {
        var socket = cli.SocketOption();
        var tool = ToolOption();
        var mode = new Option<string>("--mode")
        {
            Description = "proxy: the tool gets a loopback proxy and a placeholder key; inject: the real key in its environment",
            DefaultValueFactory = _ => AiCredentialService.ProxyMode,
        };
        mode.AcceptOnlyFromAmong(AiCredentialService.ProxyMode, AiCredentialService.InjectMode);
        var commandArgument = new Argument<string[]>("command") { Description = "The tool and its arguments, after --", Arity = ArgumentArity.OneOrMore };
        var run = new Command("run", "Run an AI tool with its provider keys: xares-sidecar run [--tool NAME] -- CMD ARGS…") { tool, mode, socket, commandArgument };
        run.SetAction(cli.Guard(async (parse, cancellationToken) =>
        {
            var sidecar = new SidecarAiClient(parse.GetRequiredValue(socket));
            var catalogue = ToolCatalogue.Load(cli.Environment);
            var toolName = parse.GetValue(tool);
            var inject = parse.GetRequiredValue(mode) == AiCredentialService.InjectMode;
            var plans = ToolPlan.Create(catalogue, toolName, await sidecar.ListAsync(cancellationToken), inject);
            var command = new ToolCommand(parse.GetRequiredValue(commandArgument), toolName is null ? null : catalogue.FindTool(toolName)?.Executable);
            return inject
                ? await InjectAsync(cli, sidecar, plans, toolName, command, cancellationToken)
                : await ProxyAsync(cli, sidecar, plans, toolName, command, cancellationToken);
        }));
        return run;
    }

    internal static Option<string?> ToolOption() => new("--tool")
    {
        Description = "The tool whose variables to set (aider, claude, gemini, codex, opencode, continue, or one from XARES_TOOLS_FILE); default: every provider's standard variables",
    };

    private static async Task<int> InjectAsync(SidecarCli cli, SidecarAiClient sidecar, IReadOnlyList<ProviderPlan> plans, string? toolName, ToolCommand command, CancellationToken cancellationToken)
    {
        if (cli.HardenProcess)
        {
            ProcessHardening.ForbidMemoryAccess();
        }
        var environment = await RunEnvironment.InjectAsync(plans, sidecar, cancellationToken);
        using var geminiHome = GeminiAuthHome.Prepare(toolName, environment.Variables, cli.Environment);
        return await ChildProcess.RunAsync(environment.Command(command.Argv, command.Executable), environment.Variables, environment.Secrets);
    }

    private static async Task<int> ProxyAsync(SidecarCli cli, SidecarAiClient sidecar, IReadOnlyList<ProviderPlan> plans, string? toolName, ToolCommand command, CancellationToken cancellationToken)
    {
        if (plans.FirstOrDefault(p => !p.Variables.TakesBaseUrl) is { } blind)
        {
            throw new SidecarException($"the tool takes no base URL for {blind.Provider.Id}, so it cannot use the proxy; use --mode inject");
        }
        // The proxies run in the sidecar, which checks each key before answering (so a missing
        // credential or a reached limit fails here, before the tool starts); this process only ever
        // sees ports and placeholders. They close when this connection does: when the run ends.
        var request = new OpenProxyRequest { Tool = toolName ?? "" };
        request.Targets.AddRange(plans.Select(plan => new ProxyTarget { Provider = plan.Provider.Id, CredentialId = plan.Credential.CredentialId }));
        using var proxy = await sidecar.OpenProxyAsync(request, cancellationToken);
        var environment = RunEnvironment.ForProxy(plans, proxy.Endpoints);
        using var geminiHome = GeminiAuthHome.Prepare(toolName, environment.Variables, cli.Environment);
        return await ChildProcess.RunAsync(environment.Command(command.Argv, command.Executable), environment.Variables, []);
    }

    /// <summary>The command after --, and the tool's executable name (for its base-URL arguments).</summary>
    private sealed record ToolCommand(string[] Argv, string? Executable);
}
