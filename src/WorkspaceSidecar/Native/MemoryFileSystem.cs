using System.Runtime.InteropServices;

namespace Xares.Sidecar.Native;

/// <summary>
/// Whether a directory lives in memory (tmpfs or ramfs), checked with statfs(2): a bootstrap
/// token may be written only there, never to the container's disk layer (README, Docker).
/// </summary>
internal static partial class MemoryFileSystem
{
    private const long TmpfsMagic = 0x01021994;
    private const long RamfsMagic = unchecked((long)0x858458f6);

    // struct statfs begins with f_type (a 64-bit word on every 64-bit Linux); the rest is not read.
    private const int StatfsSize = 256;

    public static unsafe long TypeOf(string path)
    {
        Span<byte> buffer = stackalloc byte[StatfsSize];
        fixed (byte* p = buffer)
        {
            if (statfs(path, p) != 0)
            {
                throw new IOException($"cannot statfs {path}: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        return MemoryMarshal.Read<long>(buffer);
    }

    public static bool Contains(string directory) => TypeOf(directory) is TmpfsMagic or RamfsMagic;

    /// <summary>Throws <see cref="SidecarException"/> unless <paramref name="directory"/> is a tmpfs or ramfs.</summary>
    public static void Require(string directory)
    {
        long type;
        try
        {
            type = TypeOf(directory);
        }
        catch (IOException ex)
        {
            throw new SidecarException($"{directory} cannot be checked: {ex.Message}", ex);
        }
        if (type is not (TmpfsMagic or RamfsMagic))
        {
            throw new SidecarException(
                $"{directory} is not a tmpfs (filesystem type 0x{type:x}); refusing to put a bootstrap token there (run the container with --tmpfs {directory})");
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statfs(string path, byte* buffer);
}
