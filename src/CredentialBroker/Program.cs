using Xares.Broker.Hosting;

try
{
    return await BrokerCommandLine.Create().Parse(args).InvokeAsync();
}
catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
{
    // Start-up problems (bad master key, refused listener, unreadable files) are operator errors, not crashes.
    await Console.Error.WriteLineAsync($"xares: {ex.Message}");
    return 1;
}
