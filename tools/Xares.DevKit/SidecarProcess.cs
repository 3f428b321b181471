using System.Text.Json;

namespace Xares.DevKit;

/// <summary>
/// The published native sidecar (<c>xares-sidecar serve</c>) for one workspace. The bootstrap
/// token is handed over the way a platform without Docker does it: a 0600 file.
/// </summary>
internal sealed class SidecarProcess : IAsyncDisposable
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);

    private readonly BackgroundProcess process;
    private readonly string home;

    private SidecarProcess(BackgroundProcess process, string socketPath, string tokenFile, string home)
    {
        this.process = process;
        this.home = home;
        SocketPath = socketPath;
        TokenFile = tokenFile;
    }

    public string SocketPath { get; }

    public string TokenFile { get; }

    public string LogFile => process.LogFile;

    public bool HasExited => process.HasExited;

    /// <summary>The sidecar's pid, e.g. for reading its memory use from /proc.</summary>
    public int ProcessId => process.Id;

    /// <summary>Starts a sidecar in <c>&lt;directory&gt;/&lt;name&gt;</c>; waits until it reports connected unless told not to.</summary>
    /// <param name="extraArguments">More `serve` options, e.g. `--broker-ca FILE`.</param>
    public static async Task<SidecarProcess> StartAsync(
        ScratchDirectory directory, string brokerGrpcUrl, string bootstrapToken, string name = "sidecar", bool waitUntilConnected = true,
        IReadOnlyList<string>? extraArguments = null)
    {
        var root = directory.Sub(name);
        // The sidecar keeps its socket in a private directory (rule f).
        var socketPath = Path.Combine(directory.Sub(Path.Combine(name, "run")), "sidecar.sock");
        if (socketPath.Length >= 100)
        {
            throw new InvalidOperationException($"Socket path too long for a Unix socket: {socketPath}");
        }

        var tokenFile = Path.Combine(root, "bootstrap-token");
        await using (var stream = new FileStream(tokenFile, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        await using (var writer = new StreamWriter(stream))
        {
            await writer.WriteAsync(bootstrapToken);
        }

        var home = directory.Sub(Path.Combine(name, "home"));
        var process = BackgroundProcess.Start(
            Artifacts.Sidecar,
            ["serve", "--broker", brokerGrpcUrl, "--socket", socketPath, "--bootstrap-token-file", tokenFile, .. extraArguments ?? []],
            ProcessRunner.BaseEnvironment(home),
            Path.Combine(directory.Logs, $"{name}.log"));
        var sidecar = new SidecarProcess(process, socketPath, tokenFile, home);
        if (waitUntilConnected)
        {
            await sidecar.WaitUntilConnectedAsync(ConnectTimeout);
        }

        return sidecar;
    }

    /// <summary>Runs <c>xares-sidecar status</c> against this sidecar's socket (the text for people).</summary>
    public Task<CommandResult> StatusAsync() => RunStatusAsync([]);

    /// <summary>Runs <c>xares-sidecar status --json</c>: the documented shape, exit 3 not connected, 4 no session.</summary>
    public Task<CommandResult> StatusJsonAsync() => RunStatusAsync(["--json"]);

    public async Task<bool> IsConnectedAsync() => ReportsConnected(await StatusJsonAsync());

    private Task<CommandResult> RunStatusAsync(string[] options)
    {
        var environment = ProcessRunner.BaseEnvironment(home);
        environment["XARES_SIDECAR_SOCKET"] = SocketPath;
        return ProcessRunner.RunAsync(Artifacts.Sidecar, ["status", .. options], environment, LogFile + ".status", timeout: TimeSpan.FromSeconds(10));
    }

    public async Task WaitUntilConnectedAsync(TimeSpan timeout)
    {
        CommandResult? last = null;
        var connected = await Poll.UntilAsync(async () =>
        {
            if (process.HasExited)
            {
                return true;
            }

            last = await StatusJsonAsync();
            return ReportsConnected(last);
        }, timeout, TimeSpan.FromMilliseconds(200));

        if (!connected || process.HasExited)
        {
            var state = process.HasExited ? $"exited with {process.ExitCode}" : "still running";
            // Leave nothing running behind a failed start.
            await process.KillAsync();
            throw new InvalidOperationException(
                $"Sidecar did not report connected within {timeout.TotalSeconds} s ({state}).\n" +
                $"Last status: {last?.ToString() ?? "(none)"}\n{process.LogTail()}");
        }
    }

    /// <summary>
    /// True when <c>xares-sidecar status --json</c> answered (exit 0, 3 or 4; 1 means the sidecar did
    /// not answer at all) and says <c>"connected": true</c>.
    /// </summary>
    internal static bool ReportsConnected(CommandResult status)
    {
        if (status.TimedOut || status.ExitCode is not (0 or 3 or 4))
        {
            return false;
        }
        using var json = JsonDocument.Parse(status.Stdout);
        return json.RootElement.GetProperty("connected").GetBoolean();
    }

    public string LogTail() => process.LogTail();

    public Task KillAsync() => process.KillAsync();

    public ValueTask DisposeAsync() => process.DisposeAsync();
}
