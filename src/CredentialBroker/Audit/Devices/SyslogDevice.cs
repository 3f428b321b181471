using System.Net.Sockets;

namespace Xares.Broker.Audit.Devices;

/// <summary>
/// Sends each record as an RFC 5424 message to a Unix syslog socket (one datagram per message
/// on a datagram socket such as /dev/log; octet-counted frames on a stream socket) or to a TCP
/// syslog receiver (octet-counted frames, RFC 6587).
/// </summary>
internal sealed class SyslogDevice(AuditDeviceAddress address, TimeProvider time, ILogger logger) : AuditDevice(address, time, logger)
{
    private Socket? _socket;

    protected override void WriteLines(IReadOnlyList<AuditDeviceLine> lines)
    {
        if (_socket is { SocketType: SocketType.Stream } open && PeerClosed(open))
        {
            Close();
        }
        _socket ??= Connect();
        var messages = lines.Select(l => SyslogMessage.Format(l.At, l.Outcome, l.Json));
        if (_socket.SocketType == SocketType.Dgram)
        {
            foreach (var message in messages)
            {
                _socket.Send(message);
            }
            return;
        }
        var frames = messages.SelectMany(SyslogMessage.Frame).ToArray();
        for (var sent = 0; sent < frames.Length;)
        {
            sent += _socket.Send(frames, sent, frames.Length - sent, SocketFlags.None);
        }
    }

    protected override void Close()
    {
        _socket?.Dispose();
        _socket = null;
    }

    private Socket Connect()
    {
        if (Address.Kind == AuditDeviceKind.SyslogTcp)
        {
            var tcp = Configure(new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true });
            using var deadline = new CancellationTokenSource(Timeout);
            try
            {
                tcp.ConnectAsync(Address.Host, Address.Port, deadline.Token).AsTask().GetAwaiter().GetResult();
                return tcp;
            }
            catch
            {
                tcp.Dispose();
                throw;
            }
        }
        // /dev/log is a datagram socket; a stream socket answers a datagram connect with EPROTOTYPE.
        var endpoint = new UnixDomainSocketEndPoint(Address.Path);
        var datagram = Configure(new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified));
        try
        {
            datagram.Connect(endpoint);
            return datagram;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ProtocolType)
        {
            datagram.Dispose();
        }
        var stream = Configure(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified));
        try
        {
            stream.Connect(endpoint);
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static Socket Configure(Socket socket)
    {
        socket.SendTimeout = (int)Timeout.TotalMilliseconds;
        return socket;
    }

    // A receiver that closed the connection would otherwise swallow the next write into the kernel's buffer.
    private static bool PeerClosed(Socket socket) => socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
}
