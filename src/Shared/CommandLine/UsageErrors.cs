using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Xares.CommandLine;

/// <summary>
/// A command line System.CommandLine could not parse becomes one line that names the option or
/// word and what was expected, then a hint to --help: not its raw messages (which name .NET types
/// such as Nullable`1[Int32]) followed by the whole help.
/// </summary>
internal static class UsageErrors
{
    /// <summary>Writes the error and the hint when <paramref name="parse"/> failed; false when there is nothing to report.</summary>
    public static bool Report(ParseResult parse, string program, TextWriter error)
    {
        if (parse.Action is not ParseErrorAction)
        {
            return false;
        }
        var path = CommandPath(parse.CommandResult);
        error.WriteLine($"xares: {Describe(parse)}");
        error.WriteLine($"Run '{string.Join(' ', [program, .. path])} --help' for usage.");
        return true;
    }

    /// <summary>The one line (without the `xares: ` prefix).</summary>
    internal static string Describe(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var where = CommandPath(parse.CommandResult) is { Count: > 0 } path ? string.Join(' ', path) + ": " : "";
        // An unknown word explains any "a command is required" error that follows from it, so it comes first.
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            if (token.StartsWith('-'))
            {
                return $"{where}unknown option '{token}'{Suggestion(token, command.Options.Concat(Recursive(parse.CommandResult)).Where(o => !o.Hidden).SelectMany(Names))}";
            }
            return command.Subcommands.Count > 0
                ? $"{where}unknown command '{token}'{Suggestion(token, command.Subcommands.Where(c => !c.Hidden).SelectMany(Names))}"
                : $"{where}unexpected argument '{token}'";
        }
        var first = parse.Errors[0];
        return first.SymbolResult switch
        {
            OptionResult { IdentifierToken: null } missing => $"{where}{missing.Option.Name} is required",
            ArgumentResult { Parent: OptionResult { IdentifierToken: null } missing } => $"{where}{missing.Option.Name} is required",
            OptionResult option => Value(option.Option.Name, option.Option.ValueType, option.Tokens, option.Option.GetCompletions(CompletionContext.Empty), first.Message),
            ArgumentResult { Parent: OptionResult option } => Value(option.Option.Name, option.Option.ValueType, option.Tokens, option.Option.GetCompletions(CompletionContext.Empty), first.Message),
            ArgumentResult argument => where + Value($"<{argument.Argument.Name}>", argument.Argument.ValueType, argument.Tokens, argument.Argument.GetCompletions(CompletionContext.Empty), first.Message),
            _ when command.Options.FirstOrDefault(o => o.Required && parse.GetResult(o) is null) is { } missing => $"{where}{missing.Name} is required",
            _ when command.Subcommands.Count > 0 && command.Action is null =>
                $"{where}a command is required: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}",
            _ => where + FirstLine(first.Message),
        };
    }

    /// <summary>`--port: expected a whole number, got 'abc'`, from what the value must be rather than the .NET type's name.</summary>
    private static string Value(string name, Type valueType, IReadOnlyList<Token> tokens, IEnumerable<CompletionItem> completions, string message)
    {
        if (tokens.Count == 0)
        {
            // A switch never lacks a value; its error is about something else (e.g. --version with other words).
            return Element(valueType) == typeof(bool) ? FirstLine(message) : $"{name}: expected {Expected(valueType, completions) ?? "a value"}";
        }
        var type = Element(valueType);
        var allowed = completions.Select(c => c.Label).ToList();
        foreach (var token in tokens.Select(t => t.Value))
        {
            var fits = type == typeof(string) ? allowed.Count == 0 || allowed.Contains(token) : Parses(token, type);
            if (!fits)
            {
                return $"{name}: expected {Expected(valueType, completions)}, got '{token}'";
            }
        }
        return $"{name}: {FirstLine(message)}";
    }

    private static string? Expected(Type valueType, IEnumerable<CompletionItem> completions)
    {
        var type = Element(valueType);
        if (type == typeof(bool))
        {
            return "true or false";
        }
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return "a number";
        }
        if (type.IsPrimitive && type != typeof(char))
        {
            return type == typeof(uint) || type == typeof(ulong) || type == typeof(ushort) || type == typeof(byte)
                ? "a whole number (0 or more)"
                : "a whole number";
        }
        var allowed = completions.Select(c => c.Label).ToList();
        return allowed.Count > 0 ? "one of " + string.Join(", ", allowed) : null;
    }

    private static bool Parses(string token, Type type) => type switch
    {
        _ when type == typeof(bool) => bool.TryParse(token, out _),
        _ when type == typeof(int) => int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        _ when type == typeof(uint) => uint.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out _),
        _ when type == typeof(long) => long.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        _ when type == typeof(ulong) => ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out _),
        _ when type == typeof(double) => double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
        _ => true,
    };

    /// <summary>The value type behind `int?` or `uint[]`.</summary>
    private static Type Element(Type type) =>
        Nullable.GetUnderlyingType(type) ?? (type.IsArray ? type.GetElementType()! : type);

    private static string Suggestion(string token, IEnumerable<string> candidates)
    {
        var best = candidates
            .Select(c => (Name: c, Distance: EditDistance(token.TrimStart('-'), c.TrimStart('-'))))
            .Where(c => c.Distance <= 2)
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        return best.Name is null ? "" : $"; did you mean '{best.Name}'?";
    }

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            previous = current;
        }
        return previous[b.Length];
    }

    private static IEnumerable<string> Names(Symbol symbol) => symbol switch
    {
        Option option => [option.Name, .. option.Aliases.Where(a => a.StartsWith("--", StringComparison.Ordinal))],
        Command command => [command.Name, .. command.Aliases],
        _ => [symbol.Name],
    };

    /// <summary>Options of enclosing commands that apply here too (e.g. --help, --data-dir).</summary>
    internal static IEnumerable<Option> Recursive(CommandResult result)
    {
        for (var parent = result.Parent as CommandResult; parent is not null; parent = parent.Parent as CommandResult)
        {
            foreach (var option in parent.Command.Options.Where(o => o.Recursive))
            {
                yield return option;
            }
        }
    }

    /// <summary>The subcommand names below the root, e.g. [keys, status].</summary>
    private static List<string> CommandPath(CommandResult result)
    {
        var path = new List<string>();
        for (var current = result; current.Parent is CommandResult parent; current = parent)
        {
            path.Insert(0, current.Command.Name);
        }
        return path;
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
