using System.Net;
using System.Net.Sockets;
using Xares.Sidecar.Broker;

namespace Xares.Sidecar.Tests.Broker;

public sealed class BrokerChannelTests
{
    [Fact]
    public async Task Connect_TurnsOnTcpKeepalive_SoASilentlyVanishedBrokerIsNoticedBySeconds()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        await using var stream = (NetworkStream)await BrokerChannel.ConnectAsync(new DnsEndPoint("localhost", port), CancellationToken.None);
        using var accepted = await listener.AcceptSocketAsync();

        var socket = stream.Socket;
        Assert.True(socket.Connected);
        Assert.Equal(1, (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!);
        Assert.Equal(20, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime)!);
        Assert.Equal(5, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval)!);
        Assert.Equal(3, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount)!);
        Assert.True(socket.NoDelay);
    }
}
