using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Broker;
using Xares.Sidecar.Local;

namespace Xares.Sidecar.Tests.Fakes;

/// <summary>A real <see cref="SidecarRuntime"/> on a socket in a private temp directory, talking to a fake broker.</summary>
internal sealed class SidecarHarness : IAsyncDisposable
{
    private SidecarHarness(DirectoryInfo root, SidecarRuntime runtime, CapturingLoggerFactory logs, string tokenFile)
    {
        Root = root;
        Runtime = runtime;
        Logs = logs;
        TokenFile = tokenFile;
    }

    public DirectoryInfo Root { get; }
    public SidecarRuntime Runtime { get; }
    public CapturingLoggerFactory Logs { get; }
    public string TokenFile { get; }
    public string SocketPath => Runtime.SocketPath;

    /// <summary>Starts a sidecar; with <paramref name="bootstrap"/> a fresh token file is waiting for it.</summary>
    public static SidecarHarness Start(FakeBroker broker, bool bootstrap = true)
    {
        var root = Directory.CreateTempSubdirectory("xares-sidecar-test-");
        var tokenFile = Path.Combine(root.FullName, "bootstrap-token");
        if (bootstrap)
        {
            File.WriteAllText(tokenFile, broker.State.AddBootstrapToken() + "\n");
        }
        var logs = new CapturingLoggerFactory();
        var settings = new SidecarSettings([broker.Url], tokenFile, Path.Combine(root.FullName, "run", "sidecar.sock"), [], null);
        return new SidecarHarness(root, SidecarRuntime.Start(settings, logs), logs, tokenFile);
    }

    public Task WaitConnectedAsync() =>
        Until.TrueAsync(() => Runtime.Session.Current is not null && Runtime.Link.State == LinkState.Connected, what: "a connected session");

    public Task<SidecarResponse> SendAsync(SidecarRequest request) =>
        LocalSocketClient.SendAsync(SocketPath, request, verifyPeer: null, CancellationToken.None);

    public async Task<SidecarResponse> GetAsync(string host, string path = "", string username = "") =>
        await SendAsync(new SidecarRequest { GitGet = new GitGetRequest { Protocol = "https", Host = host, Path = path, Username = username } });

    public async Task<GitEraseResponse> EraseAsync(string host, string username, string password) =>
        (await SendAsync(new SidecarRequest { GitErase = new GitEraseRequest { Protocol = "https", Host = host, Username = username, Password = password } })).GitErase;

    public async ValueTask DisposeAsync()
    {
        await Runtime.DisposeAsync();
        Root.Delete(recursive: true);
    }
}
