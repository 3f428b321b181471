using Xares.DevKit;

namespace Xares.Bench.FleetLoad.Scenarios;

/// <summary>
/// A few real `xares-sidecar serve` processes in the same run as the simulated fleet, each with a
/// workspace of the fleet's user: they show that a real sidecar connects, hears the revocations
/// (its log names each credential it dropped) and comes back after a broker restart under the
/// same load.
/// </summary>
internal sealed class Witnesses : IAsyncDisposable
{
    private readonly List<SidecarProcess> _sidecars = [];

    public int Count => _sidecars.Count;

    public static async Task<Witnesses> StartAsync(ScratchDirectory scratch, AdminClient admin, string userId, IReadOnlyList<string> grpcUrls, int count)
    {
        var witnesses = new Witnesses();
        for (var i = 0; i < count; i++)
        {
            var workspace = await admin.CreateWorkspaceAsync(userId, $"witness-{i}");
            witnesses._sidecars.Add(await SidecarProcess.StartAsync(scratch, grpcUrls[i % grpcUrls.Count], workspace.BootstrapToken, $"witness-{i}"));
        }
        return witnesses;
    }

    /// <summary>How many logged the revocation of <paramref name="credentialId"/> within <paramref name="timeout"/>.</summary>
    public async Task<int> HeardAsync(string credentialId, TimeSpan timeout)
    {
        var heard = 0;
        await Poll.UntilAsync(() =>
        {
            heard = _sidecars.Count(s => LogMentions(s.LogFile, credentialId));
            return Task.FromResult(heard == _sidecars.Count);
        }, timeout, TimeSpan.FromMilliseconds(50));
        return heard;
    }

    /// <summary>How many `xares-sidecar status` reports connected within <paramref name="timeout"/>.</summary>
    public async Task<int> ConnectedAsync(TimeSpan timeout)
    {
        var connected = 0;
        await Poll.UntilAsync(async () =>
        {
            connected = (await Task.WhenAll(_sidecars.Select(s => s.IsConnectedAsync()))).Count(c => c);
            return connected == _sidecars.Count;
        }, timeout, TimeSpan.FromMilliseconds(250));
        return connected;
    }

    /// <summary>Resident memory of each real sidecar, KiB.</summary>
    public IEnumerable<long> RssKib() => _sidecars.Where(s => !s.HasExited).Select(s => Measures.ProcessStats.RssKib(s.ProcessId));

    private static bool LogMentions(string logFile, string text)
    {
        using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd().Contains(text, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var sidecar in _sidecars)
        {
            await sidecar.DisposeAsync();
        }
    }
}
