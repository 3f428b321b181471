using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Xares.Protos.Sidecar.V1;
using Xares.Sidecar.Local;
using Xares.Sidecar.Native;

namespace Xares.Sidecar.Tests.Local;

public sealed class LocalSocketServerTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("xares-socket-");

    public void Dispose() => _root.Delete(recursive: true);

    private string SocketIn(string directory) => Path.Combine(_root.FullName, directory, "sidecar.sock");

    private static LocalSocketServer Bind(string path, uint? group = null, PeerPolicy? policy = null) =>
        LocalSocketServer.Bind(path, group, policy ?? new PeerPolicy(FileOwnership.CurrentUid, []), NullLogger<LocalSocketServer>.Instance);

    private static Task<LocalReply> Answer(SidecarRequest request, PeerCredentials peer, CancellationToken _) =>
        Task.FromResult<LocalReply>(new SidecarResponse { Status = new StatusResponse { BrokerUrl = $"uid {peer.Uid}" } });

    [Fact]
    public async Task Bind_MissingDirectory_CreatesPrivateDirectoryAndOwnerOnlySocket()
    {
        var path = SocketIn("run");
        await using var server = Bind(path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task Bind_SocketGroup_GroupMayReadAndWrite()
    {
        var path = SocketIn("shared");
        await using var server = Bind(path, group: 4242);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
            File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(path));
        Assert.Equal(4242u, FileOwnership.Of(path).Gid);
    }

    [Fact]
    public void Bind_GroupWritableDirectory_Refused()
    {
        var directory = Directory.CreateDirectory(Path.Combine(_root.FullName, "open"));
        File.SetUnixFileMode(directory.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupWrite | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);

        var error = Assert.Throws<SidecarException>(() => Bind(SocketIn("open")));
        Assert.Contains("writable by group or others", error.Message);
    }

    [Fact]
    public void Bind_DirectoryOwnedByAnotherUid_Refused()
    {
        if (FileOwnership.CurrentUid != 0)
        {
            return; // needs root to give a directory away
        }
        var directory = Directory.CreateDirectory(Path.Combine(_root.FullName, "theirs"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Assert.Equal(0, Libc.chown(directory.FullName, 4321, 4321));

        var error = Assert.Throws<SidecarException>(() => Bind(SocketIn("theirs")));
        Assert.Contains("owned by uid 4321", error.Message);
    }

    [Fact]
    public async Task Bind_StaleSocketFile_ReplacesIt()
    {
        var path = SocketIn("run");
        await Bind(path).DisposeAsync();
        // Bound but never listening, like the file a killed sidecar leaves behind: connects are refused.
        // (Disposing a bound .NET socket unlinks its file, so it stays open until the end.)
        var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            stale.Bind(new UnixDomainSocketEndPoint(path));
            Assert.True(File.Exists(path));

            await using var server = Bind(path);
            using var stop = new CancellationTokenSource();
            var running = server.RunAsync(Answer, stop.Token);
            var response = await LocalSocketClient.SendAsync(path, new SidecarRequest { Status = new StatusRequest() }, null, CancellationToken.None);
            Assert.Equal(SidecarResponse.ResponseOneofCase.Status, response.ResponseCase);
            await stop.CancelAsync();
            await running;
        }
        finally
        {
            stale.Dispose();
        }
    }

    [Fact]
    public async Task Bind_SocketStillServed_Refused()
    {
        var path = SocketIn("run");
        await using var first = Bind(path);

        Assert.Contains("already serving", Assert.Throws<SidecarException>(() => Bind(path)).Message);
    }

    [Fact]
    public async Task Run_OwnUid_IsServed()
    {
        var path = SocketIn("run");
        await using var server = Bind(path);
        using var stop = new CancellationTokenSource();
        var running = server.RunAsync(Answer, stop.Token);

        var response = await LocalSocketClient.SendAsync(path, new SidecarRequest { Status = new StatusRequest() }, null, CancellationToken.None);

        Assert.Equal($"uid {FileOwnership.CurrentUid}", response.Status.BrokerUrl);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Run_HeldReply_KeptUntilPeerClosesThenDisposed()
    {
        var path = SocketIn("run");
        await using var server = Bind(path);
        using var stop = new CancellationTokenSource();
        var held = new HeldUntilClose();
        var running = server.RunAsync((request, peer, _) =>
            Task.FromResult(new LocalReply(new SidecarResponse { Status = new StatusResponse() }, held)), stop.Token);

        var (response, connection) = await LocalSocketClient.SendAndHoldAsync(path, new SidecarRequest { Status = new StatusRequest() }, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(SidecarResponse.ResponseOneofCase.Status, response.ResponseCase);
        await Task.Delay(200);
        Assert.False(held.Disposed.Task.IsCompleted);

        connection.Dispose();

        await held.Disposed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await stop.CancelAsync();
        await running;
    }

    private sealed class HeldUntilClose : IAsyncDisposable
    {
        public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ValueTask DisposeAsync()
        {
            Disposed.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Run_UidNotAllowed_ClosedWithoutAnswer()
    {
        var path = SocketIn("run");
        var otherUid = FileOwnership.CurrentUid + 1;
        await using var server = Bind(path, policy: new PeerPolicy(otherUid, []));
        using var stop = new CancellationTokenSource();
        var running = server.RunAsync(Answer, stop.Token);

        var error = await Assert.ThrowsAsync<SidecarException>(() =>
            LocalSocketClient.SendAsync(path, new SidecarRequest { Status = new StatusRequest() }, null, CancellationToken.None));

        Assert.Contains("without an answer", error.Message);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Run_RootWhileSidecarHasItsOwnUid_OnlyTheBootstrapMessageIsServed()
    {
        if (FileOwnership.CurrentUid != 0)
        {
            return; // the peer must be root
        }
        var path = SocketIn("run");
        await using var server = Bind(path, policy: new PeerPolicy(4321, []));
        using var stop = new CancellationTokenSource();
        var running = server.RunAsync(Answer, stop.Token);

        var bootstrap = await LocalSocketClient.SendAsync(path, new SidecarRequest { Bootstrap = new BootstrapRequest { BootstrapToken = "xbt_x" } }, null, CancellationToken.None);
        foreach (var other in new SidecarRequest[]
        {
            new() { Status = new StatusRequest() },
            new() { GitGet = new GitGetRequest { Protocol = "https", Host = "github.com" } },
            new() { AiKey = new AiKeyRequest { Provider = "openai", Mode = "inject" } },
        })
        {
            var error = await Assert.ThrowsAsync<SidecarException>(() => LocalSocketClient.SendAsync(path, other, null, CancellationToken.None));
            Assert.Contains("without an answer", error.Message);
        }

        Assert.Equal("uid 0", bootstrap.Status.BrokerUrl);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Run_OversizedRequest_ClosedWithoutAnswer()
    {
        var path = SocketIn("run");
        await using var server = Bind(path);
        using var stop = new CancellationTokenSource();
        var running = server.RunAsync(Answer, stop.Token);
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));

        // varint 1 MiB length prefix
        await client.SendAsync(new byte[] { 0x80, 0x80, 0x40 });
        var buffer = new byte[16];
        var read = await client.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(0, read);
        await stop.CancelAsync();
        await running;
    }
}
