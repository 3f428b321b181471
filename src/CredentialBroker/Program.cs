using System.CommandLine;
using Xares.Broker.Hosting;
using Xares.CommandLine;

try
{
    // Errors reach the catch below as one line, not System.CommandLine's "Unhandled exception" and a stack trace.
    return await BrokerCommandLine.RunAsync(args, new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (SettingsException ex)
{
    // Wrong settings are a usage error: nothing was started, every wrong one is named.
    await Console.Error.WriteLineAsync($"xares: {ex.Message}");
    return ExitCodes.Usage;
}
catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
{
    // Start-up problems (bad master key, refused listener, unreadable files) are operator errors, not crashes.
    await Console.Error.WriteLineAsync($"xares: {ex.Message}");
    return ExitCodes.Failure;
}
catch (Exception ex)
{
    // Anything else is unexpected: the whole exception, for the bug report, and a plain exit code.
    await Console.Error.WriteLineAsync($"xares: unexpected error: {ex}");
    return ExitCodes.Failure;
}
