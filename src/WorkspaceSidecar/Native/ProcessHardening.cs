using System.Runtime.InteropServices;

namespace Xares.Sidecar.Native;

/// <summary>
/// Rule f: no core dumps and no ptrace/proc-mem access by same-uid processes, so the
/// in-memory secrets cannot be read out of this process by the workspace user.
/// </summary>
internal static class ProcessHardening
{
    public static void Apply()
    {
        if (Libc.prctl(Libc.PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        {
            throw new InvalidOperationException($"prctl(PR_SET_DUMPABLE, 0) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        var none = new Libc.RLimit { Current = 0, Maximum = 0 };
        if (Libc.setrlimit(Libc.RLIMIT_CORE, in none) != 0)
        {
            throw new InvalidOperationException($"setrlimit(RLIMIT_CORE, 0) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>
    /// For `run`: only PR_SET_DUMPABLE=0, so the same-uid child cannot ptrace this process or read
    /// its memory. RLIMIT_CORE is left alone because the child would inherit it; execve makes the
    /// child dumpable again on its own.
    /// </summary>
    public static void ForbidMemoryAccess()
    {
        if (Libc.prctl(Libc.PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        {
            throw new InvalidOperationException($"prctl(PR_SET_DUMPABLE, 0) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
