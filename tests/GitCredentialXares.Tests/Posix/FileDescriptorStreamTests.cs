using System.IO.Pipes;
using System.Text;
using Xares.GitHelper.Posix;

namespace Xares.GitHelper.Tests.Posix;

public sealed class FileDescriptorStreamTests
{
    [Fact]
    public async Task Read_PipeWrittenInChunks_ReturnsEverythingUntilTheWriterCloses()
    {
        using var writer = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.None);
        using var readEnd = writer.ClientSafePipeHandle;
        var sent = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("protocol=https\nhost=ü.example\n", 4000)));
        var writing = Task.Run(() =>
        {
            foreach (var chunk in sent.Chunk(7_000))
            {
                writer.Write(chunk);
            }

            writer.Dispose();
        });

        var received = new MemoryStream();
        new FileDescriptorStream((int)readEnd.DangerousGetHandle()).CopyTo(received);
        await writing;

        Assert.Equal(sent, received.ToArray());
    }

    [Fact]
    public void Write_ToAFile_WritesAllBytesAndReadContinuesFromTheDescriptorsOffset()
    {
        var path = Path.GetTempFileName();
        try
        {
            var bytes = Encoding.UTF8.GetBytes(new string('x', 100_000) + "\nend");
            using (var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write))
            {
                new FileDescriptorStream((int)handle.DangerousGetHandle()).Write(bytes);
            }

            // Standard input redirected from a file (`helper get < request`) is read from where the descriptor stands.
            using var input = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            var stream = new FileDescriptorStream((int)input.DangerousGetHandle());
            var first = new byte[10];
            Assert.Equal(10, stream.Read(first));
            var rest = new MemoryStream();
            stream.CopyTo(rest);

            Assert.Equal(bytes, first.Concat(rest.ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_ClosedDescriptor_ThrowsIOExceptionNamingIt()
    {
        var error = Assert.Throws<IOException>(() => new FileDescriptorStream(-1).Read(new byte[1]));

        Assert.Equal("cannot read from file descriptor -1: Bad file descriptor", error.Message);
    }

    [Fact]
    public void Write_ClosedDescriptor_ThrowsIOExceptionNamingIt()
    {
        var error = Assert.Throws<IOException>(() => new FileDescriptorStream(-1).Write("x"u8));

        Assert.Equal("cannot write to file descriptor -1: Bad file descriptor", error.Message);
    }
}
