using System.Globalization;

namespace Xares.GitHelper;

// The helper's only configuration: where the sidecar listens and how long to wait for it.
internal static class HelperEnvironment
{
    public const string SocketVariable = "XARES_SIDECAR_SOCKET";
    public const string TimeoutVariable = "XARES_HELPER_TIMEOUT_MS";
    public const string DefaultSocketPath = "/run/xares/sidecar.sock";
    public const int MaxTimeoutMilliseconds = 600_000;

    // git waits on the helper synchronously; a wedged sidecar must not hang every git command for long.
    public const int DefaultTimeoutMilliseconds = 2_000;
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMilliseconds(DefaultTimeoutMilliseconds);

    public static string SocketPath(string? configured) =>
        string.IsNullOrEmpty(configured) ? DefaultSocketPath : configured;

    public static bool TryParseTimeout(string? configured, out TimeSpan timeout)
    {
        timeout = DefaultTimeout;
        if (string.IsNullOrEmpty(configured))
        {
            return true;
        }

        if (!int.TryParse(configured, NumberStyles.None, null, out var milliseconds)
            || milliseconds is < 1 or > MaxTimeoutMilliseconds)
        {
            return false;
        }

        timeout = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }
}
