using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Xares.Sidecar.Native;

internal readonly record struct FileOwner(uint Uid, uint Gid);

/// <summary>Owner of a path (not following a final symlink), which .NET has no managed API for.</summary>
internal static class FileOwnership
{
    // struct statx: stx_uid at byte 20, stx_gid at byte 24; the whole struct is 256 bytes.
    private const int StatxSize = 256;

    public static unsafe FileOwner Of(string path)
    {
        Span<byte> buffer = stackalloc byte[StatxSize];
        fixed (byte* p = buffer)
        {
            if (Libc.statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, p) != 0)
            {
                throw new IOException($"cannot stat {path}: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        return new FileOwner(
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[20..]),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[24..]));
    }

    public static uint CurrentUid => Libc.getuid();

    public static void SetGroup(string path, uint gid)
    {
        if (Libc.chown(path, uint.MaxValue, gid) != 0)
        {
            throw new IOException($"cannot chown {path} to group {gid}: errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
