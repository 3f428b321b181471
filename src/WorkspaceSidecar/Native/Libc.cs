using System.Runtime.InteropServices;

namespace Xares.Sidecar.Native;

/// <summary>The few libc calls the sidecar needs; source-generated P/Invoke keeps them AOT-clean.</summary>
internal static partial class Libc
{
    public const int PR_SET_DUMPABLE = 4;
    public const int RLIMIT_CORE = 4;
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_BASIC_STATS = 0x7ff;

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setrlimit(int resource, in RLimit limit);

    [LibraryImport("libc")]
    public static partial uint getuid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chown(string path, uint owner, uint group);

    // statx has one layout on every architecture, unlike struct stat.
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    [LibraryImport("libc")]
    public static partial int getpgrp();

    [LibraryImport("libc")]
    public static partial int tcgetpgrp(int fd);
}
