using System.CommandLine;

namespace Xares.CommandLine;

/// <summary>The `--json` switch of every read command; each command's shape is documented in docs/cli.md and kept stable.</summary>
internal static class JsonOutput
{
    public static Option<bool> Option() => new("--json") { Description = "Write the result as one JSON object on stdout (camelCase; shape in docs/cli.md)" };
}
