using System.Diagnostics;
using System.Globalization;

namespace Xares.Bench.FleetLoad.Measures;

/// <summary>CPU time and resident memory of another process, read from /proc/&lt;pid&gt;.</summary>
internal static class ProcessStats
{
    // USER_HZ: the unit of utime and stime in /proc/<pid>/stat; 100 on every Linux the project runs on.
    private const double TicksPerSecond = 100;

    /// <summary>User plus system CPU seconds the process has used so far.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>Resident set size in KiB (VmRSS).</summary>
    public static long RssKib(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"No VmRSS in /proc/{pid}/status.");
    }

    /// <summary>The share of one core the processes used over <paramref name="window"/> (0.05 = 5 %), each.</summary>
    public static async Task<double[]> CoreShareAsync(IReadOnlyList<int> pids, TimeSpan window)
    {
        var before = pids.Select(CpuSeconds).ToArray();
        var clock = Stopwatch.StartNew();
        await Task.Delay(window);
        var elapsed = clock.Elapsed.TotalSeconds;
        return [.. pids.Select((pid, i) => (CpuSeconds(pid) - before[i]) / elapsed)];
    }
}
