using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Xares.DevKit;

/// <summary>
/// A syslog receiver for tests, as rsyslog or a SIEM collector would listen: a Unix datagram
/// socket (one message per datagram, like /dev/log), a Unix stream socket or a TCP port (both with
/// RFC 6587 octet-counting frames). It keeps every message it received, in order.
/// </summary>
internal sealed class SyslogReceiver : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly List<string> _messages = [];
    private readonly List<Socket> _connections = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private SyslogReceiver(Socket listener, bool datagram)
    {
        _listener = listener;
        _loop = datagram ? Task.Run(ReceiveDatagramsAsync) : Task.Run(AcceptAsync);
    }

    /// <summary>The TCP port (TCP receivers only).</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public static SyslogReceiver UnixDatagram(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return new SyslogReceiver(socket, datagram: true);
    }

    public static SyslogReceiver UnixStream(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen();
        return new SyslogReceiver(socket, datagram: false);
    }

    /// <summary>A TCP receiver on loopback, on <paramref name="port"/> (0: any free port).</summary>
    public static SyslogReceiver Tcp(int port = 0)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        socket.Listen();
        return new SyslogReceiver(socket, datagram: false);
    }

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> messages arrived; returns them all.</summary>
    public async Task<IReadOnlyList<string>> WaitForAsync(int count, TimeSpan timeout)
    {
        await Poll.UntilAsync(() => Task.FromResult(Messages.Count >= count), timeout);
        return Messages;
    }

    private void Add(string message)
    {
        lock (_messages)
        {
            _messages.Add(message);
        }
    }

    private async Task ReceiveDatagramsAsync()
    {
        var buffer = new byte[256 * 1024];
        try
        {
            while (true)
            {
                var received = await _listener.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                Add(Encoding.UTF8.GetString(buffer, 0, received));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task AcceptAsync()
    {
        var readers = new List<Task>();
        try
        {
            while (true)
            {
                var connection = await _listener.AcceptAsync(_stop.Token);
                lock (_connections)
                {
                    _connections.Add(connection);
                }
                readers.Add(Task.Run(() => ReadFramesAsync(connection)));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        await Task.WhenAll(readers);
    }

    /// <summary>Reads `LEN SP MESSAGE` frames until the peer or the receiver closes.</summary>
    private async Task ReadFramesAsync(Socket connection)
    {
        var pending = new List<byte>();
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await connection.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    return;
                }
                pending.AddRange(buffer.AsSpan(0, read));
                while (pending.IndexOf((byte)' ') is var space and > 0
                    && int.Parse(Encoding.ASCII.GetString([.. pending.Take(space)]), NumberStyles.None, CultureInfo.InvariantCulture) is var length
                    && pending.Count >= space + 1 + length)
                {
                    Add(Encoding.UTF8.GetString([.. pending.Skip(space + 1).Take(length)]));
                    pending.RemoveRange(0, space + 1 + length);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Stops listening and closes every connection, as a receiver that went down.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        lock (_connections)
        {
            _connections.ForEach(c => c.Dispose());
        }
        await _loop;
        _stop.Dispose();
    }
}
