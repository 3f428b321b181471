using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;

namespace Xares.Sidecar.Broker;

internal static class BrokerChannel
{
    // A broker that vanished without closing the connection (host gone, network partition) is
    // noticed by TCP keepalive, which the kernels answer without waking either process: probes
    // after 20 s of silence, every 5 s, 3 unanswered end the connection, so within 35 s. An HTTP/2
    // ping, which the broker process itself must answer, catches a broker that hangs with its host
    // up; every 2 minutes, since at 30 s pings were a third of what 10,000 idle sidecars cost a
    // broker (docs/benchmarks.md). A broker that stops closes its connections and is noticed at once.
    public static readonly TimeSpan KeepAliveIdle = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan KeepAliveProbeInterval = TimeSpan.FromSeconds(5);
    public const int KeepAliveProbes = 3;
    public static readonly TimeSpan KeepAlivePingDelay = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan KeepAlivePingTimeout = TimeSpan.FromSeconds(10);

    public static GrpcChannel Create(Uri address, BrokerTransport transport)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(2),
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, cancellationToken),
            KeepAlivePingDelay = KeepAlivePingDelay,
            KeepAlivePingTimeout = KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = true,
            AllowAutoRedirect = false,
        };
        transport.Configure(handler.SslOptions);
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 4 * 1024 * 1024,
        });
    }

    /// <summary>A TCP connection to the broker with keepalive probes on (TLS, when used, is layered on top by the handler).</summary>
    internal static async ValueTask<Stream> ConnectAsync(DnsEndPoint broker, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)KeepAliveIdle.TotalSeconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, (int)KeepAliveProbeInterval.TotalSeconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, KeepAliveProbes);
            await socket.ConnectAsync(broker, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
