using System.Text;
using Microsoft.Net.Http.Client;

namespace Xares.Broker.Tests.Docker;

/// <summary>The exec's stdin/stdout: records what is written, answers <see cref="Output"/> then EOF.</summary>
internal sealed class RecordingStream : WriteClosableStream
{
    private MemoryStream? _output;

    public MemoryStream Written { get; } = new();

    public bool WriteClosed { get; private set; }

    public string Output { get; set; } = "";

    public override bool CanCloseWrite => true;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void CloseWrite() => WriteClosed = true;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        _output ??= new MemoryStream(Encoding.UTF8.GetBytes(Output));
        return _output.Read(buffer, offset, count);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);
}
