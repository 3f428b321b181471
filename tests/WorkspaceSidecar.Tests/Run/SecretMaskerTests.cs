using System.Text;
using Xares.Sidecar.Run;

namespace Xares.Sidecar.Tests.Run;

public sealed class SecretMaskerTests
{
    [Theory]
    [InlineData(new[] { "key: sk-secret-1\n" }, "key: ***\n")]
    [InlineData(new[] { "a sk-sec", "ret-1 b" }, "a *** b")]
    [InlineData(new[] { "s", "k", "-", "secret-1", "" }, "***")]
    [InlineData(new[] { "sk-secret-1sk-secret-1" }, "******")]
    [InlineData(new[] { "sk-secr" }, "sk-secr")]
    [InlineData(new[] { "nothing to hide, see sk-" , "other" }, "nothing to hide, see sk-other")]
    [InlineData(new[] { "two: ant-2 and sk-secret-1." }, "two: *** and ***.")]
    public async Task Copy_SecretsAnywhereEvenSplitAcrossReads_Masked(string[] reads, string expected)
    {
        var masker = new SecretMasker(["sk-secret-1", "ant-2"]);
        using var source = new ChunkedStream(reads.Select(Encoding.UTF8.GetBytes));
        using var destination = new MemoryStream();

        await masker.CopyAsync(source, destination, CancellationToken.None);

        Assert.Equal(expected, Encoding.UTF8.GetString(destination.ToArray()));
    }

    [Fact]
    public void Process_TextThatCannotStartSecret_PassesThroughAtOnce()
    {
        var masker = new SecretMasker(["sk-secret-1"]);
        using var output = new MemoryStream();

        masker.Process("progress 50%\n"u8, output, final: false);

        Assert.Equal("progress 50%\n", Encoding.UTF8.GetString(output.ToArray()));
    }

    /// <summary>Returns one chunk per read, as a pipe does.</summary>
    private sealed class ChunkedStream(IEnumerable<byte[]> chunks) : Stream
    {
        private readonly Queue<byte[]> _chunks = new(chunks);

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_chunks.Count == 0)
            {
                return 0;
            }
            var chunk = _chunks.Dequeue();
            if (chunk.Length == 0)
            {
                return Read(buffer, offset, count);
            }
            chunk.CopyTo(buffer, offset);
            return chunk.Length;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
