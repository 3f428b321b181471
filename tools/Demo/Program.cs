using Xares.Demo;

var options = DemoOptions.Parse(args, out var error);
if (options is null)
{
    await Console.Error.WriteLineAsync($"xares-demo: {error}\n\n{DemoOptions.Usage}");
    return 2;
}

if (options.ShowHelp)
{
    Console.Out.Write(DemoOptions.Usage);
    return 0;
}

// Ctrl+C ends the current step and still runs the clean-up step.
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};

var narrator = new Narrator(Console.Out);
await using var script = new DemoScript(narrator, options.Keep, options.Minted);
return await script.RunAsync(interrupted.Token) ? 0 : 1;
