using System.Diagnostics;
using Google.Protobuf;
using Xares.GitHelper.Posix;
using Xares.Protos.Sidecar.V1;

namespace Xares.GitHelper;

// One request and one response over the sidecar's Unix socket (varint length-delimited protobuf),
// one connection per call, all of it within one deadline. Synchronous on purpose: no thread pool
// or socket engine threads to start in a process that lives for a few milliseconds.
internal sealed class SidecarClient(string socketPath, TimeSpan timeout)
{
    // Leases are small; a larger frame means a confused or hostile peer.
    public const int MaxResponseBytes = 64 * 1024;

    private const int InitialReceiveBytes = 512;

    // Returns the sidecar's answer; an ErrorResponse becomes a HelperException.
    public SidecarResponse Exchange(SidecarRequest request)
    {
        var started = Stopwatch.GetTimestamp();
        using var socket = Connect(started);

        SidecarResponse response;
        try
        {
            socket.SendAll(Frame(request), RemainingMilliseconds(started, "did not take the request"));
            response = Receive(socket, started);
        }
        catch (UnixSocketException e) when (e.IsTimeout)
        {
            throw TimedOut("did not answer");
        }
        catch (UnixSocketException e)
        {
            throw new HelperException($"connection to sidecar at {socketPath} failed ({e.Message})");
        }

        if (response.ResponseCase == SidecarResponse.ResponseOneofCase.Error)
        {
            throw new HelperException($"sidecar error {response.Error.Code}: {response.Error.Message}");
        }

        return response;
    }

    private UnixStreamSocket Connect(long started)
    {
        if (!UnixStreamSocket.IsUsablePath(socketPath))
        {
            throw new HelperException($"sidecar socket path is not usable (empty or longer than a Unix socket allows): {socketPath}");
        }

        try
        {
            return UnixStreamSocket.Connect(socketPath, RemainingMilliseconds(started, "did not accept the connection"));
        }
        catch (UnixSocketException e) when (e.IsTimeout)
        {
            throw TimedOut("did not accept the connection");
        }
        catch (UnixSocketException e)
        {
            throw new HelperException($"sidecar not reachable at {socketPath} ({DescribeConnectFailure(e)})");
        }
    }

    private SidecarResponse Receive(UnixStreamSocket socket, long started)
    {
        // Sized for a typical answer and grown to the announced frame: zeroing a 64 KiB buffer up
        // front is measurable in a process this short.
        var buffer = new byte[InitialReceiveBytes];
        var received = 0;
        int frameLength;
        while (!TryGetFrameLength(buffer.AsSpan(0, received), out frameLength) || received < frameLength)
        {
            if (frameLength > buffer.Length)
            {
                Array.Resize(ref buffer, frameLength);
            }

            var read = socket.Receive(buffer.AsSpan(received), RemainingMilliseconds(started, "did not answer"));
            if (read == 0)
            {
                throw new HelperException("sidecar closed the connection before answering completely");
            }

            received += read;
        }

        try
        {
            return SidecarResponse.Parser.ParseDelimitedFrom(new MemoryStream(buffer, 0, frameLength, writable: false));
        }
        catch (InvalidProtocolBufferException)
        {
            throw new HelperException("sidecar sent a malformed answer");
        }
    }

    // Reads the varint length prefix so the whole frame can be awaited under the deadline
    // before protobuf parses it from memory. Returns the prefix plus body length.
    private static bool TryGetFrameLength(ReadOnlySpan<byte> received, out int frameLength)
    {
        frameLength = 0;
        ulong bodyLength = 0;
        for (var i = 0; i < received.Length && i < 5; i++)
        {
            bodyLength |= (ulong)(received[i] & 0x7F) << (7 * i);
            if ((received[i] & 0x80) == 0)
            {
                var total = bodyLength + (ulong)i + 1;
                if (total > MaxResponseBytes)
                {
                    throw new HelperException($"sidecar answer exceeds {MaxResponseBytes} bytes");
                }

                frameLength = (int)total;
                return true;
            }
        }

        if (received.Length >= 5)
        {
            throw new HelperException("sidecar sent a malformed answer");
        }

        return false;
    }

    private static byte[] Frame(SidecarRequest request)
    {
        using var frame = new MemoryStream();
        request.WriteDelimitedTo(frame);
        return frame.ToArray();
    }

    private int RemainingMilliseconds(long started, string whatDidNotHappen)
    {
        var remaining = timeout - Stopwatch.GetElapsedTime(started);
        // Zero would mean "no timeout" to the socket, so an exhausted budget stops here.
        return remaining.TotalMilliseconds >= 1
            ? (int)Math.Ceiling(remaining.TotalMilliseconds)
            : throw TimedOut(whatDidNotHappen);
    }

    private HelperException TimedOut(string whatDidNotHappen) =>
        new($"sidecar at {socketPath} {whatDidNotHappen} within {(int)timeout.TotalMilliseconds} ms");

    private static string DescribeConnectFailure(UnixSocketException e) => e.Errno switch
    {
        Libc.ENOENT => "no socket at that path; is xares-sidecar running?",
        Libc.ECONNREFUSED => "nothing is listening on it; is xares-sidecar running?",
        Libc.EACCES => "permission denied",
        _ => e.Message,
    };
}
