using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;

namespace Xares.Bench.FleetLoad.Sidecars;

/// <summary>
/// One HTTP/2 connection per simulated sidecar, set up as the real sidecar's (src/WorkspaceSidecar
/// Broker/BrokerChannel): TCP keepalive (20 s, 5 s, 3 probes), an HTTP/2 ping every 2 minutes
/// (--keepalive-seconds), no idle timeout, but
/// a 30 s connect timeout instead of its 2 s. The real sidecar's 2 s bounds a TCP handshake on a
/// network; here it would time this process's own thread pool, which ten thousand sidecars
/// reconnecting at once keep seconds behind: connections the kernel had set up in time were
/// abandoned by the thousand (tens of thousands in TIME-WAIT on the generator's side), each retry
/// costing more of the CPU the queue was short of, and after a restart almost none came back. Each
/// connection leaves from its own loopback address (127.1.x.y), so the broker sees what a fleet
/// looks like: one client address per sidecar, each with its own rate-limit bucket.
/// </summary>
internal static class SidecarChannel
{
    /// <summary>Set once from the command line, before the first channel.</summary>
    public static TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromMinutes(2);

    public static GrpcChannel Create(Uri broker, int index)
    {
        var source = SourceAddress(index);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(30),
            KeepAlivePingDelay = KeepAlivePingDelay,
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = true,
            AllowAutoRedirect = false,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                    socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 20);
                    socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 5);
                    socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress(broker, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    /// <summary>127.1.0.1 … 127.1.255.254 and on: Linux routes all of 127/8 to loopback.</summary>
    private static IPAddress SourceAddress(int index)
    {
        var host = index + 1;
        return new IPAddress([127, (byte)(1 + (host / 65024)), (byte)(host / 254 % 256), (byte)(1 + (host % 254))]);
    }
}
