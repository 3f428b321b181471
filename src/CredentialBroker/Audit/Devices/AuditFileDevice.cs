using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Xares.Broker.Audit.Devices;

/// <summary>
/// Appends each record as one JSON line to a file created with mode 0600, flushed to disk (fsync)
/// before the write returns. Lines are appended (O_APPEND), so a file that logrotate moved is
/// written until SIGHUP reopens the path.
/// </summary>
internal sealed class AuditFileDevice(AuditDeviceAddress address, TimeProvider time, ILogger logger) : AuditDevice(address, time, logger)
{
    private FileStream? _file;

    protected override void WriteLines(IReadOnlyList<AuditDeviceLine> lines)
    {
        _file ??= Open(Address.Path);
        using var buffer = new MemoryStream();
        foreach (var line in lines)
        {
            buffer.Write(Encoding.UTF8.GetBytes(line.Json));
            buffer.WriteByte((byte)'\n');
        }
        _file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        _file.Flush(flushToDisk: true);
    }

    protected override void Close()
    {
        _file?.Dispose();
        _file = null;
    }

    private static FileStream Open(string path)
    {
        var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.ReadWrite | FileShare.Delete,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        // A line torn by a crash stays torn; the next line starts on a line of its own.
        if (file.Length > 0 && !EndsWithNewline(path, file.Length))
        {
            file.WriteByte((byte)'\n');
        }
        return file;
    }

    private static bool EndsWithNewline(string path, long length)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> last = stackalloc byte[1];
        return RandomAccess.Read(handle, last, length - 1) == 1 && last[0] == (byte)'\n';
    }
}
