using System.Runtime.InteropServices;
using System.Text;

namespace Xares.GitHelper.Posix;

// A blocking Unix stream socket on the C library: connect, send and receive, each bounded by a
// timeout set on the socket (SO_SNDTIMEO also bounds a connect waiting on a full backlog).
// Failures throw UnixSocketException with the errno; EINTR is retried.
internal sealed unsafe class UnixStreamSocket : IDisposable
{
    private readonly int fd;

    private UnixStreamSocket(int fd) => this.fd = fd;

    // The path as sockaddr_un carries it: UTF-8, NUL-terminated, within sun_path.
    public static bool IsUsablePath(string path) =>
        path.Length > 0 && !path.Contains('\0') && Encoding.UTF8.GetByteCount(path) < Libc.UnixPathCapacity;

    public static UnixStreamSocket Connect(string path, int timeoutMilliseconds)
    {
        var fd = Libc.Socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new UnixSocketException(Marshal.GetLastPInvokeError());
        }

        var socket = new UnixStreamSocket(fd);
        try
        {
            socket.SetTimeout(Libc.SO_SNDTIMEO, timeoutMilliseconds);
            var address = stackalloc byte[sizeof(ushort) + Libc.UnixPathCapacity];
            *(ushort*)address = Libc.AF_UNIX;
            var pathLength = Encoding.UTF8.GetBytes(path, new Span<byte>(address + sizeof(ushort), Libc.UnixPathCapacity - 1));
            address[sizeof(ushort) + pathLength] = 0;
            while (Libc.Connect(fd, address, sizeof(ushort) + pathLength + 1) != 0)
            {
                ThrowUnlessInterrupted();
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void SendAll(ReadOnlySpan<byte> data, int timeoutMilliseconds)
    {
        SetTimeout(Libc.SO_SNDTIMEO, timeoutMilliseconds);
        fixed (byte* start = data)
        {
            var sent = 0;
            while (sent < data.Length)
            {
                // MSG_NOSIGNAL: a sidecar that hung up is an error to report, not a SIGPIPE.
                var result = Libc.Send(fd, start + sent, data.Length - sent, Libc.MSG_NOSIGNAL);
                if (result >= 0)
                {
                    sent += (int)result;
                    continue;
                }

                ThrowUnlessInterrupted();
            }
        }
    }

    // Returns the number of bytes received, 0 when the peer closed the connection.
    public int Receive(Span<byte> buffer, int timeoutMilliseconds)
    {
        SetTimeout(Libc.SO_RCVTIMEO, timeoutMilliseconds);
        fixed (byte* start = buffer)
        {
            while (true)
            {
                var result = Libc.Receive(fd, start, buffer.Length, 0);
                if (result >= 0)
                {
                    return (int)result;
                }

                ThrowUnlessInterrupted();
            }
        }
    }

    public void Dispose() => Libc.Close(fd);

    private void SetTimeout(int option, int milliseconds)
    {
        // struct timeval on 64-bit Linux: seconds and microseconds, two longs.
        var timeval = stackalloc long[2];
        timeval[0] = milliseconds / 1000;
        timeval[1] = milliseconds % 1000 * 1000;
        if (Libc.SetSockOpt(fd, Libc.SOL_SOCKET, option, timeval, 2 * sizeof(long)) != 0)
        {
            throw new UnixSocketException(Marshal.GetLastPInvokeError());
        }
    }

    private static void ThrowUnlessInterrupted()
    {
        var errno = Marshal.GetLastPInvokeError();
        if (errno != Libc.EINTR)
        {
            throw new UnixSocketException(errno);
        }
    }
}

// A failed socket call; Errno is the C library's error number.
internal sealed class UnixSocketException(int errno) : Exception(Marshal.GetPInvokeErrorMessage(errno))
{
    public int Errno { get; } = errno;

    public bool IsTimeout => Errno == Libc.EAGAIN;
}
