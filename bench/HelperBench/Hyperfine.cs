using System.Diagnostics;
using System.Text.Json;

namespace Xares.Bench.Helper;

/// <summary>One command for hyperfine: a display name and a <c>sh</c> command line.</summary>
internal sealed record BenchCommand(string Name, string CommandLine);

/// <summary>hyperfine's figures for one command, in milliseconds.</summary>
internal sealed record BenchTiming(string Name, double MedianMs, double MeanMs, double StddevMs, double MinMs, double MaxMs, int Runs);

/// <summary>Runs the system's hyperfine with an exact environment; its report goes straight to our stdout.</summary>
internal static class Hyperfine
{
    public static async Task<IReadOnlyList<BenchTiming>> RunAsync(
        IReadOnlyList<BenchCommand> commands, int warmup, int runs, string exportJson,
        IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        // sh (not -N): the commands read git's credential request from a file on stdin, which hyperfine
        // 1.15 (Debian 12) can only do through a shell. hyperfine measures the shell's own spawn time
        // and subtracts it from every figure.
        var info = new ProcessStartInfo("hyperfine")
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            ArgumentList =
            {
                "--shell=sh", "--style=basic", "--warmup", warmup.ToString(), "--runs", runs.ToString(), "--export-json", exportJson,
            },
        };
        foreach (var command in commands)
        {
            info.ArgumentList.Add("--command-name");
            info.ArgumentList.Add(command.Name);
        }

        foreach (var command in commands)
        {
            info.ArgumentList.Add(command.CommandLine);
        }

        info.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start hyperfine");
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"hyperfine exited with {process.ExitCode}.");
        }

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(exportJson));
        // Results come in the order the commands were given.
        return document.RootElement.GetProperty("results").EnumerateArray()
            .Select((r, i) => new BenchTiming(
                commands[i].Name,
                Ms(r, "median"), Ms(r, "mean"), Ms(r, "stddev"), Ms(r, "min"), Ms(r, "max"),
                r.GetProperty("times").GetArrayLength()))
            .ToList();
    }

    private static double Ms(JsonElement result, string name) =>
        result.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() * 1000 : double.NaN;
}
