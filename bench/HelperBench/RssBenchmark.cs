using System.Globalization;
using Xares.DevKit;

namespace Xares.Bench.Helper;

/// <summary>
/// Resident memory of a serving sidecar, read from /proc: once connected and idle, and again
/// idle after it has served a run of helper requests.
/// </summary>
internal static class RssBenchmark
{
    private const int Requests = 200;

    public static async Task<int> RunAsync(TimeSpan idle)
    {
        await using var bench = await BenchWorkspace.StartAsync();
        var pid = bench.Sidecar.ProcessId;

        await Task.Delay(idle);
        var connected = ProcStatus.Read(pid);

        var request = CredentialRequest.Format("http", bench.Host);
        for (var i = 0; i < Requests; i++)
        {
            var answer = CredentialRequest.Parse(BenchWorkspace.Require(await bench.Git.CredentialHelperAsync("get", request), "git-credential-xares get").Stdout);
            if (answer.GetValueOrDefault("password") != bench.Token)
            {
                throw new InvalidOperationException("git-credential-xares get did not return the stored credential.");
            }
        }

        await Task.Delay(idle);
        var served = ProcStatus.Read(pid);

        var idleText = $"idle {idle.TotalSeconds:F0} s";
        Console.WriteLine($"xares-sidecar (pid {pid}) resident memory, VmRSS:");
        Console.WriteLine($"  {"connected, " + idleText,-40}{M(connected.RssKiB),6} MiB");
        Console.WriteLine($"  {$"after {Requests} helper gets, " + idleText,-40}{M(served.RssKiB),6} MiB");
        Console.WriteLine($"  {"peak (VmHWM)",-40}{M(served.PeakKiB),6} MiB");
        // The last line is read by bench/footprint.sh (MiB).
        Console.WriteLine($"sidecar-rss: connected-idle={M(connected.RssKiB)} served-idle={M(served.RssKiB)} peak={M(served.PeakKiB)}");
        return 0;
    }

    private static string M(long kib) => (kib / 1024.0).ToString("F1", CultureInfo.InvariantCulture);
}

/// <summary>VmRSS and VmHWM of a process, from /proc/PID/status (kB there means KiB).</summary>
internal sealed record ProcStatus(long RssKiB, long PeakKiB)
{
    public static ProcStatus Read(int pid)
    {
        var lines = File.ReadAllLines($"/proc/{pid}/status");
        long Field(string name) => lines
            .Where(l => l.StartsWith(name + ":", StringComparison.Ordinal))
            .Select(l => long.Parse(l[(name.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture))
            .Single();
        return new ProcStatus(Field("VmRSS"), Field("VmHWM"));
    }
}
