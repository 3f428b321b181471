using System.Text;

namespace Xares.EndToEnd.Tests.Flows;

/// <summary>
/// Reads, while a run goes on, the /proc/&lt;pid&gt;/environ of every process whose environment names
/// <c>HOME=</c> the run's own home: `run` itself, the tool and whatever the tool starts. A real CLI
/// does not report its own environment, so the test looks at it the way any same-uid process can.
/// </summary>
internal sealed class ToolEnvironScanner : IAsyncDisposable
{
    private readonly string _marker;
    private readonly Dictionary<int, string> _seen = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ToolEnvironScanner(string home)
    {
        _marker = "HOME=" + home + "\0";
        _loop = Task.Run(ScanUntilStoppedAsync);
    }

    public static ToolEnvironScanner Start(string home) => new(home);

    /// <summary>Every environment seen (one per process), after the scan stopped.</summary>
    public async Task<IReadOnlyList<string>> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        return [.. _seen.Values];
    }

    private async Task ScanUntilStoppedAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid))
                {
                    continue;
                }
                try
                {
                    var environ = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(Path.Combine(dir, "environ"))) + "\0";
                    if (environ.Contains(_marker, StringComparison.Ordinal))
                    {
                        _seen[pid] = environ;
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // The process ended while being read, or is not ours to read.
                }
            }
            try
            {
                await Task.Delay(25, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
