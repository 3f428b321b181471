using System.Text.RegularExpressions;

namespace Xares.DevKit;

/// <summary>What a finished child process did; ToString is written for logs and assertion messages.</summary>
internal sealed partial record CommandResult(string Command, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>
    /// Redacts credential-protocol <c>password=</c> lines (a helper's answer), so logs and test
    /// reports never become the leak the secret scanner looks for.
    /// </summary>
    public override string ToString() =>
        $"$ {Command}\n-> exit {ExitCode}{(TimedOut ? " (killed: timed out)" : "")} after {Elapsed.TotalMilliseconds:F0} ms\n" +
        $"--- stdout ---\n{Redact(Stdout)}\n--- stderr ---\n{Redact(Stderr)}";

    private static string Redact(string text) => PasswordLine().Replace(text, "password=<redacted>");

    [GeneratedRegex("^password=.*$", RegexOptions.Multiline)]
    private static partial Regex PasswordLine();
}
