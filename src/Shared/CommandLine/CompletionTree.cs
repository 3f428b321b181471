using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Help;

namespace Xares.CommandLine;

/// <summary>What a shell may complete, read once from the command tree: each command's path, words and option values.</summary>
internal sealed record CompletionTree(string Program, IReadOnlyList<CompletionNode> Nodes)
{
    public static CompletionTree From(RootCommand root, string program)
    {
        var nodes = new List<CompletionNode>();
        Visit(root, "", [], nodes);
        return new CompletionTree(program, nodes);
    }

    /// <summary>A shell function name for the program: `_xares_sidecar`.</summary>
    public string Function => "_" + Program.Replace('-', '_');

    private static void Visit(Command command, string path, IReadOnlyList<Option> inherited, List<CompletionNode> nodes)
    {
        var options = command.Options.Concat(inherited).Where(o => !o.Hidden).DistinctBy(o => o.Name).Select(Describe).ToList();
        var subcommands = command.Subcommands.Where(c => !c.Hidden).ToList();
        var arguments = command.Arguments.Where(a => !a.Hidden).SelectMany(a => a.GetCompletions(CompletionContext.Empty)).Select(c => c.Label).ToList();
        nodes.Add(new CompletionNode(path, [.. subcommands.Select(c => new CompletionWord(c.Name, c.Description))], options, arguments));
        var passedOn = inherited.Concat(command.Options.Where(o => o.Recursive)).ToList();
        foreach (var subcommand in subcommands)
        {
            Visit(subcommand, path.Length == 0 ? subcommand.Name : $"{path}/{subcommand.Name}", passedOn, nodes);
        }
    }

    private static CompletionOption Describe(Option option)
    {
        var flag = option.ValueType == typeof(bool) || option.ValueType == typeof(bool?) || option is HelpOption or VersionOption;
        var names = new[] { option.Name }.Concat(option.Aliases)
            .Where(n => n.StartsWith("--", StringComparison.Ordinal) || (n.Length == 2 && n[0] == '-' && char.IsLetter(n[1])))
            .ToList();
        var values = flag ? [] : option.GetCompletions(CompletionContext.Empty).Select(c => c.Label).ToList();
        var text = option.ValueType == typeof(string) || option.ValueType == typeof(string[]);
        return new CompletionOption(names, option.Description ?? "", TakesValue: !flag, values, Files: !flag && values.Count == 0 && text);
    }
}

/// <summary>One command: its path below the root (`keys/status`; empty for the root) and what may follow it.</summary>
internal sealed record CompletionNode(string Path, IReadOnlyList<CompletionWord> Subcommands, IReadOnlyList<CompletionOption> Options, IReadOnlyList<string> ArgumentValues)
{
    /// <summary>Every word that may come next: subcommands, fixed argument values, option names.</summary>
    public IEnumerable<string> Words => Subcommands.Select(s => s.Name).Concat(ArgumentValues).Concat(Options.SelectMany(o => o.Names));
}

internal sealed record CompletionWord(string Name, string? Description);

/// <summary>An option: its names, whether a value follows, its fixed values if any, else whether the value may be a file (text, not a number).</summary>
internal sealed record CompletionOption(IReadOnlyList<string> Names, string Description, bool TakesValue, IReadOnlyList<string> Values, bool Files);
