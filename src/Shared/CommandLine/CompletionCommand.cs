using System.CommandLine;

namespace Xares.CommandLine;

/// <summary>`PROGRAM completion bash|zsh|fish`: prints the completion script for the program's whole command tree.</summary>
internal static class CompletionCommand
{
    public static Command Create(string program)
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh or fish" };
        shell.AcceptOnlyFromAmong(CompletionScripts.Shells);
        var command = new Command("completion", $"Print a completion script for bash, zsh or fish (e.g. source <({program} completion bash))") { shell };
        command.SetAction(parse =>
        {
            var tree = CompletionTree.From((RootCommand)parse.RootCommandResult.Command, program);
            parse.InvocationConfiguration.Output.Write(CompletionScripts.For(parse.GetRequiredValue(shell), tree));
            return ExitCodes.Success;
        });
        return command;
    }
}
