using System.Runtime.InteropServices;
using Xares.Sidecar.Cli;

using var shutdown = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

var cli = new SidecarCli(new CliConsole(Console.In, Console.Out, Console.Error), Environment.GetEnvironmentVariable);
return await cli.RunAsync(args, shutdown.Token);

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    shutdown.Cancel();
}
