using System.Reflection;
using Xares.CommandLine;

namespace Xares.GitHelper;

// What the helper answers when a person, not git, runs it: --help, --version, or a command line
// git never sends. git always passes exactly one operation word, which this lets through untouched.
internal static class HelperUsage
{
    public const string Program = "git-credential-xares";

    public static readonly string Help = $"""
        {Program}: the git credential helper of Xares. git runs it; `xares-sidecar install` configures git to.

        Usage: {Program} get|store|erase    git's credential protocol on stdin and stdout
               {Program} --help | --version

        get asks the sidecar for a short-lived credential; store keeps nothing; erase reports a rejected one.
        Environment:
          {HelperEnvironment.SocketVariable}     the sidecar's socket (default {HelperEnvironment.DefaultSocketPath})
          {HelperEnvironment.TimeoutVariable}  how long to wait for the sidecar, 1-{HelperEnvironment.MaxTimeoutMilliseconds} (default {HelperEnvironment.DefaultTimeoutMilliseconds})
        Exit codes: 0 success (also when nothing matches: git then asks its next helper), 1 failure, 2 usage error.

        """;

    /// <summary>The exit code when the arguments are not a git operation (help, version or a usage error); null to go on.</summary>
    public static int? TryAnswer(string[] args, TextWriter stdout, TextWriter stderr)
    {
        switch (args)
        {
            case ["--help" or "-h"]:
                stdout.Write(Help);
                return ExitCodes.Success;
            case ["--version"]:
                stdout.Write($"{Version}\n");
                return ExitCodes.Success;
            case [var operation] when !operation.StartsWith('-'):
                return null;
            case []:
                return UsageError(stderr, "an operation is required: get, store or erase");
            case [var option] when option.StartsWith('-'):
                return UsageError(stderr, $"unknown option '{option}'");
            default:
                return UsageError(stderr, $"expected one operation (get, store or erase), got {args.Length} arguments");
        }
    }

    private static string Version =>
        typeof(HelperUsage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private static int UsageError(TextWriter stderr, string message)
    {
        stderr.Write($"xares: {message}\nRun '{Program} --help' for usage.\n");
        return ExitCodes.Usage;
    }
}
