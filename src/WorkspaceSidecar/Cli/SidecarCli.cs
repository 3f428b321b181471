using System.CommandLine;
using Xares.CommandLine;

namespace Xares.Sidecar.Cli;

/// <summary>Where a command reads and writes; tests hand in strings.</summary>
internal sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error);

/// <summary>
/// The `xares-sidecar` command line. A command line that does not parse is one line and a hint
/// (exit 2); every command runs through one handler that turns a failure into `xares: message` on
/// stderr and an exit code from <see cref="ExitCodes"/>.
/// </summary>
internal sealed class SidecarCli(CliConsole console, Func<string, string?> environment, bool hardenProcess = true)
{
    public const string SocketVariable = "XARES_SIDECAR_SOCKET";
    public const string DefaultSocketPath = "/run/xares/sidecar.sock";
    public const string Program = "xares-sidecar";

    public CliConsole Console => console;

    public Func<string, string?> Environment => environment;

    public bool HardenProcess => hardenProcess;

    public RootCommand Build()
    {
        var root = new RootCommand("Xares workspace sidecar: hands out short-lived credentials to git and AI tools in this workspace.");
        root.Subcommands.Add(ServeCommand.Create(this));
        root.Subcommands.Add(StatusCommand.Create(this));
        root.Subcommands.Add(InstallCommand.Create(this));
        root.Subcommands.Add(UninstallCommand.Create(this));
        root.Subcommands.Add(BootstrapCommand.Create(this));
        root.Subcommands.Add(RunCommand.Create(this));
        root.Subcommands.Add(EnvCommand.Create(this));
        root.Subcommands.Add(ConnectCommand.Create(this));
        root.Subcommands.Add(CompletionCommand.Create(Program));
        return root;
    }

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var parse = Build().Parse(args);
        if (UsageErrors.Report(parse, Program, console.Error))
        {
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync(
            new InvocationConfiguration
            {
                Output = console.Out,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,
                // Program.cs owns SIGINT/SIGTERM and cancels the token passed here.
                ProcessTerminationTimeout = null,
            },
            cancellationToken);
    }

    /// <summary>The `--socket` option every client command shares, defaulting to XARES_SIDECAR_SOCKET.</summary>
    public Option<string> SocketOption() => new("--socket")
    {
        Description = $"Sidecar socket path (env {SocketVariable})",
        DefaultValueFactory = _ => environment(SocketVariable) is { Length: > 0 } path ? path : DefaultSocketPath,
    };

    /// <summary>The one top-level error handler.</summary>
    public Func<ParseResult, CancellationToken, Task<int>> Guard(Func<ParseResult, CancellationToken, Task<int>> action) =>
        async (parseResult, cancellationToken) =>
        {
            try
            {
                return await action(parseResult, cancellationToken);
            }
            catch (SidecarException ex)
            {
                await console.Error.WriteLineAsync($"xares: {ex.Message}");
                return ex.IsSettingError ? ExitCodes.Usage : ExitCodes.Failure;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await console.Error.WriteLineAsync("xares: cancelled");
                return ExitCodes.Interrupted;
            }
            catch (Exception ex)
            {
                await console.Error.WriteLineAsync($"xares: unexpected error: {ex.Message}");
                return ExitCodes.Failure;
            }
        };
}
