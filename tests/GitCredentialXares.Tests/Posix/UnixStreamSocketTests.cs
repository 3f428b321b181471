using System.Diagnostics;
using System.Net.Sockets;
using Xares.GitHelper.Posix;
using Xares.GitHelper.Tests.Support;

namespace Xares.GitHelper.Tests.Posix;

public sealed class UnixStreamSocketTests
{
    private const int Patient = 10_000;

    [Theory]
    [InlineData("", false)]
    [InlineData("/run/xares/sidecar.sock", true)]
    [InlineData("/tmp/a\0b", false)]
    public void IsUsablePath_Path_UsableUnlessEmptyOrWithNul(string path, bool usable) =>
        Assert.Equal(usable, UnixStreamSocket.IsUsablePath(path));

    [Theory]
    [InlineData(107, true)]
    [InlineData(108, false)]
    public void IsUsablePath_Length_LeavesRoomForTheNulInSunPath(int length, bool usable) =>
        Assert.Equal(usable, UnixStreamSocket.IsUsablePath(new string('s', length)));

    [Fact]
    public void IsUsablePath_NonAscii_CountsUtf8Bytes()
    {
        Assert.True(UnixStreamSocket.IsUsablePath(new string('é', 53)));
        Assert.False(UnixStreamSocket.IsUsablePath(new string('é', 54)));
    }

    [Fact]
    public void Connect_NoSocketFile_ThrowsWithEnoent()
    {
        using var directory = new SocketDirectory();

        var error = Assert.Throws<UnixSocketException>(() => UnixStreamSocket.Connect(directory.SocketPath, Patient));

        Assert.Equal(Libc.ENOENT, error.Errno);
        Assert.False(error.IsTimeout);
        Assert.Equal("No such file or directory", error.Message);
    }

    [Fact]
    public async Task SendAllAndReceive_RealListener_ExchangeBytesBothWays()
    {
        using var directory = new SocketDirectory();
        using var listener = Listen(directory.SocketPath);
        var request = Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray();
        var serving = Task.Run(() =>
        {
            using var peer = listener.Accept();
            var got = new byte[request.Length];
            var total = 0;
            while (total < got.Length)
            {
                total += peer.Receive(got, total, got.Length - total, SocketFlags.None);
            }

            peer.Send(got.AsSpan(0, 5));
            return got;
        });

        using var socket = UnixStreamSocket.Connect(directory.SocketPath, Patient);
        socket.SendAll(request, Patient);
        var answer = new byte[16];
        var answered = 0;
        int read;
        while ((read = socket.Receive(answer.AsSpan(answered), Patient)) > 0)
        {
            answered += read;
        }

        Assert.Equal(request, await serving);
        Assert.Equal(request[..5], answer[..answered]);
    }

    [Fact]
    public void Receive_PeerSilent_TimesOutAfterTheGivenTime()
    {
        using var directory = new SocketDirectory();
        using var listener = Listen(directory.SocketPath);
        using var socket = UnixStreamSocket.Connect(directory.SocketPath, Patient);
        using var peer = listener.Accept();
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<UnixSocketException>(() => socket.Receive(new byte[8], 200));

        Assert.True(error.IsTimeout);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void SendAll_PeerGone_ThrowsInsteadOfRaisingSigpipe()
    {
        using var directory = new SocketDirectory();
        using var listener = Listen(directory.SocketPath);
        using var socket = UnixStreamSocket.Connect(directory.SocketPath, Patient);
        listener.Accept().Dispose();

        var error = Assert.Throws<UnixSocketException>(() => socket.SendAll(new byte[1 << 20], Patient));

        Assert.False(error.IsTimeout);
    }

    private static Socket Listen(string path)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        return listener;
    }
}
