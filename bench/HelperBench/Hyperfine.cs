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
    /// <summary>
    /// Runs the commands in <paramref name="rounds"/> hyperfine invocations of runs/rounds each,
    /// reversing their order every round, and pools every round's samples. hyperfine runs each
    /// command's runs in one block; on a machine whose speed drifts, one long block per command
    /// compares two different machines (a ratio of 1.47 once came out where the parts added up to
    /// 1.77). Short alternating blocks put both commands through the same drift.
    /// </summary>
    public static async Task<IReadOnlyList<BenchTiming>> RunInRoundsAsync(
        IReadOnlyList<BenchCommand> commands, int warmup, int runs, int rounds, string exportJson,
        IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var samples = commands.ToDictionary(c => c.Name, _ => new List<double>());
        var perRound = Math.Max(1, runs / rounds);
        for (var round = 0; round < rounds; round++)
        {
            var order = round % 2 == 0 ? commands : commands.Reverse().ToList();
            // The full warm-up once; later rounds only re-warm the page cache and the sidecar's threads.
            var times = await RunOnceAsync(order, round == 0 ? warmup : Math.Min(warmup, 3), perRound, exportJson, environment, workingDirectory);
            foreach (var (name, values) in times)
            {
                samples[name].AddRange(values);
            }
        }
        await File.WriteAllTextAsync(exportJson, JsonSerializer.Serialize(new
        {
            rounds,
            results = commands.Select(c => new { command = c.Name, times = samples[c.Name].Select(ms => ms / 1000) }),
        }));
        return commands.Select(c => Summarize(c.Name, samples[c.Name])).ToList();
    }

    /// <summary>One hyperfine invocation; every sample of each command, in milliseconds.</summary>
    private static async Task<List<(string Name, List<double> Ms)>> RunOnceAsync(
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
                "--shell=sh", "--style=none", "--warmup", warmup.ToString(), "--runs", runs.ToString(), "--export-json", exportJson,
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
            .Select((r, i) => (commands[i].Name, r.GetProperty("times").EnumerateArray().Select(t => t.GetDouble() * 1000).ToList()))
            .ToList();
    }

    private static BenchTiming Summarize(string name, List<double> samples)
    {
        var sorted = samples.Order().ToArray();
        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        var mean = sorted.Average();
        var stddev = Math.Sqrt(sorted.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, sorted.Length - 1));
        return new BenchTiming(name, median, mean, stddev, sorted[0], sorted[^1], sorted.Length);
    }
}
