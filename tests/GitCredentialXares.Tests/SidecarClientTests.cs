using System.Diagnostics;
using System.Net.Sockets;
using Xares.GitHelper.Tests.Support;
using Xares.Protos.Sidecar.V1;

namespace Xares.GitHelper.Tests;

public sealed class SidecarClientTests
{
    private static readonly SidecarRequest StatusRequest = new() { Status = new StatusRequest() };

    [Fact]
    public void Exchange_SidecarAnswers_SendsOneDelimitedRequestAndReturnsTheAnswer()
    {
        var answer = new SidecarResponse { Status = new StatusResponse { Connected = true, WorkspaceId = "ws-1" } };
        using var sidecar = FakeSidecar.Answering(answer);

        var response = new SidecarClient(sidecar.SocketPath, TimeSpan.FromSeconds(10)).Exchange(StatusRequest);

        Assert.Equal(answer, response);
        Assert.Equal(StatusRequest, Assert.Single(sidecar.Requests));
    }

    [Theory]
    [InlineData(511)]
    [InlineData(513)]
    [InlineData(60_000)]
    public void Exchange_AnswerOfAnySizeUpToTheLimit_ArrivesWhole(int lastErrorLength)
    {
        var answer = new SidecarResponse { Status = new StatusResponse { LastError = new string('e', lastErrorLength), WorkspaceId = "ws-1" } };
        using var sidecar = FakeSidecar.Answering(answer);

        var response = new SidecarClient(sidecar.SocketPath, TimeSpan.FromSeconds(10)).Exchange(StatusRequest);

        Assert.Equal(answer, response);
    }

    [Fact]
    public void Exchange_ErrorAnswer_ThrowsWithCodeAndMessage()
    {
        using var sidecar = FakeSidecar.Answering(new SidecarResponse { Error = new ErrorResponse { Code = "internal", Message = "boom" } });

        var error = Assert.Throws<HelperException>(() => Exchange(sidecar.SocketPath, TimeSpan.FromSeconds(10)));

        Assert.Equal("sidecar error internal: boom", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 3, 0xFF, 0xFF, 0xFF }, "sidecar sent a malformed answer")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, "sidecar sent a malformed answer")]
    [InlineData(new byte[] { 0x80, 0x80, 0x08 }, "sidecar answer exceeds 65536 bytes")]
    [InlineData(new byte[] { 10, 1, 2 }, "sidecar closed the connection before answering completely")]
    [InlineData(new byte[0], "sidecar closed the connection before answering completely")]
    public void Exchange_BrokenAnswerFrame_Throws(byte[] frame, string expectedMessage)
    {
        using var sidecar = FakeSidecar.AnsweringBytes(frame);

        var error = Assert.Throws<HelperException>(() => Exchange(sidecar.SocketPath, TimeSpan.FromSeconds(10)));

        Assert.Equal(expectedMessage, error.Message);
    }

    [Fact]
    public void Exchange_SidecarBacklogFull_TimesOutWithinTimeout()
    {
        using var directory = new SocketDirectory();
        var endpoint = new UnixDomainSocketEndPoint(directory.SocketPath);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(endpoint);
        listener.Listen(0);
        var waiting = FillBacklog(endpoint);
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<HelperException>(() => Exchange(directory.SocketPath, TimeSpan.FromMilliseconds(300)));

        waiting.ForEach(socket => socket.Dispose());
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2));
        Assert.Equal($"sidecar at {directory.SocketPath} did not accept the connection within 300 ms", error.Message);
    }

    [Fact]
    public void Exchange_SocketFileWithoutListener_SaysNothingIsListening()
    {
        using var directory = new SocketDirectory();
        var boundPath = directory.SocketPath + ".bound";
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(boundPath));
            stale.Listen();
            // .NET deletes the file it bound when the socket closes; the renamed file stays behind, as after a crash.
            File.Move(boundPath, directory.SocketPath);
        }

        var error = Assert.Throws<HelperException>(() => Exchange(directory.SocketPath, TimeSpan.FromSeconds(10)));

        Assert.Equal($"sidecar not reachable at {directory.SocketPath} (nothing is listening on it; is xares-sidecar running?)", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/tmp/sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss")]
    public void Exchange_UnusableSocketPath_Throws(string socketPath)
    {
        var error = Assert.Throws<HelperException>(() => Exchange(socketPath, TimeSpan.FromSeconds(10)));

        Assert.StartsWith("sidecar socket path is not usable", error.Message);
    }

    private static SidecarResponse Exchange(string socketPath, TimeSpan timeout) =>
        new SidecarClient(socketPath, timeout).Exchange(StatusRequest);

    // Connects without blocking until the listener's queue refuses more, so the next blocking connect waits.
    private static List<Socket> FillBacklog(UnixDomainSocketEndPoint endpoint)
    {
        var waiting = new List<Socket>();
        while (waiting.Count < 64)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
            try
            {
                socket.Connect(endpoint);
                waiting.Add(socket);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                socket.Dispose();
                return waiting;
            }
        }

        throw new InvalidOperationException("the listener's backlog never filled");
    }
}
