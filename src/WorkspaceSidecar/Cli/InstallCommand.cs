using System.CommandLine;
using Xares.CommandLine;
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
        var helper = new Option<string?>("--helper") { Description = $"Path of {HelperFileName} (default: next to this program)" };
        var check = new Option<bool>("--check") { Description = "Write nothing; report (exit 5) any helper that would receive a Xares token in this environment" };
        var json = JsonOutput.Option();
        json.Description = "With --check: " + json.Description;
        var noEnv = new Option<bool>("--no-env") { Description = "Write only the git config sections, no environment file or shell hooks; refuse if another helper would follow Xares" };
        var (system, envDir, etcDir) = LayoutOptions();
        var command = new Command("install", "Configure git to ask Xares, and only Xares, for the hosts this workspace may use")
        {
            socket, system, helper, envDir, etcDir, noEnv, check, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(json) && !result.GetValue(check))
            {
                result.AddError("--json: only with --check (install itself prints what it writes)");
            }
        });
        command.SetAction(cli.Guard(async (parse, cancellationToken) =>
        {
            var layout = InstallLayout.Create(parse.GetValue(system), parse.GetValue(envDir), parse.GetRequiredValue(etcDir), parse.GetValue(noEnv), cli.Environment);
            if (parse.GetValue(check))
            {
                return await InstallCheck.RunAsync(layout, cli.Console, parse.GetValue(json), cancellationToken);
            }
            var helperPath = parse.GetValue(helper) ?? Path.Combine(AppContext.BaseDirectory, HelperFileName);
            return await RunAsync(parse.GetRequiredValue(socket), helperPath, layout, cli.Console, cancellationToken);
        }));
        return command;
    }

    /// <summary>The options install and uninstall share.</summary>
    internal static (Option<bool> System, Option<string?> EnvDir, Option<string> EtcDir) LayoutOptions() => (
        new Option<bool>("--system") { Description = "The system git config, /etc/xares and /etc shell hooks instead of the invoking user's" },
        new Option<string?>("--env-dir") { Description = "Where git-credentials.conf and git-env.sh go (default ~/.config/xares, /etc/xares with --system)" },
        new Option<string>("--etc-dir")
        {
            Description = "Root of the system shell hooks with --system (profile.d/xares-git.sh, bash.bashrc)",
            DefaultValueFactory = _ => "/etc",
        });

    /// <summary>
    /// Asks the sidecar for the git targets; writes, per target, the helper reset and the Xares
    /// helper into the git config scope and into git-credentials.conf (loaded as command-scope
    /// config by git-env.sh); then checks every helper git would run next to Xares.
    /// </summary>
    internal static async Task<int> RunAsync(string socketPath, string helperPath, InstallLayout layout, CliConsole console, CancellationToken cancellationToken)
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
            return 0;
        }
        var helperCommand = GitConfigWriter.HelperValue(fullHelperPath);
        var served = new List<ServedUrl>();
        foreach (var target in targets)
        {
            if (!GitConfigWriter.IsConfigurableUrl(target.Url))
            {
                await console.Error.WriteLineAsync($"xares: skipping unusable git target '{target.Url}'");
                continue;
            }
            await layout.Writer.ConfigureAsync(target.Url, helperCommand, target.UseHttpPath, cancellationToken);
            served.Add(new ServedUrl(target.Url, target.UseHttpPath));
            await console.Out.WriteLineAsync($"configured {target.Url}{(target.UseHttpPath ? " (useHttpPath)" : "")}");
        }
        if (layout.Hooks is not null)
        {
            layout.Files.Write(served, helperCommand);
            layout.Hooks.Install(layout.Files.ScriptPath);
            await console.Out.WriteLineAsync($"wrote {layout.Files.ConfPath} and {layout.Files.ScriptPath}, loaded from {string.Join(", ", layout.Hooks.BlockFiles.Append(layout.Hooks.OwnFile).OfType<string>())}");
        }
        return await VerifyAsync(served.Select(s => s.Url).ToList(), layout, console, cancellationToken);
    }

    private static async Task<int> VerifyAsync(IReadOnlyList<string> urls, InstallLayout layout, CliConsole console, CancellationToken cancellationToken)
    {
        var exitCode = 0;
        if (layout.Hooks is not null)
        {
            // What a shell that loaded git-env.sh sees: anything left is configured after our include.
            foreach (var foreign in await layout.Check.WithConf(layout.Files.ConfPath).FindAsync(urls, cancellationToken))
            {
                await console.Error.WriteLineAsync($"xares: {foreign.Location}: helper '{foreign.Helper}' would receive Xares tokens for {foreign.Url} even with {layout.Files.ScriptPath} loaded; remove it");
                exitCode = ExitCodes.Failure;
            }
        }
        var protectedHere = layout.Hooks is not null && layout.Check.IncludesConf(layout.Files.ConfPath);
        if (protectedHere)
        {
            return exitCode;
        }
        foreach (var foreign in await layout.Check.FindAsync(urls, cancellationToken))
        {
            if (layout.Hooks is null)
            {
                await console.Error.WriteLineAsync($"xares: {foreign.Location}: helper '{foreign.Helper}' would receive Xares tokens for {foreign.Url}; remove it, or install without --no-env");
                exitCode = ExitCodes.Failure;
            }
            else
            {
                await console.Error.WriteLineAsync($"xares: warning: {foreign.Location}: helper '{foreign.Helper}' would receive Xares tokens for {foreign.Url} in processes that do not load {layout.Files.ScriptPath} (new login and bash shells do; this one does not yet)");
            }
        }
        return exitCode;
    }
}
