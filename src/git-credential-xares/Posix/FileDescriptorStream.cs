using System.Runtime.InteropServices;

namespace Xares.GitHelper.Posix;

// An inherited standard stream (0, 1 or 2) read and written with plain read(2)/write(2).
// It does not own the descriptor: the process exits right after using it.
internal sealed unsafe class FileDescriptorStream(int fd) : Stream
{
    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            while (true)
            {
                var read = Libc.Read(fd, start, buffer.Length);
                if (read >= 0)
                {
                    return (int)read;
                }

                ThrowUnlessInterrupted("read from");
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            var written = 0;
            while (written < buffer.Length)
            {
                var result = Libc.Write(fd, start + written, buffer.Length - written);
                if (result >= 0)
                {
                    written += (int)result;
                    continue;
                }

                ThrowUnlessInterrupted("write to");
            }
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private void ThrowUnlessInterrupted(string operation)
    {
        var errno = Marshal.GetLastPInvokeError();
        if (errno != Libc.EINTR)
        {
            throw new IOException($"cannot {operation} file descriptor {fd}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }
}
