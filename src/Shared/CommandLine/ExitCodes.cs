namespace Xares.CommandLine;

/// <summary>
/// The one exit-code table of xares-broker, xares-sidecar and git-credential-xares (docs/cli.md).
/// Linked as source into each program, so scripts can rely on the same numbers everywhere.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked; a state command found everything in order.</summary>
    public const int Success = 0;

    /// <summary>The command could not do its job: unreachable sidecar or database, refused operation, I/O error.</summary>
    public const int Failure = 1;

    /// <summary>The command line (or a setting it reads) is invalid; nothing was done.</summary>
    public const int Usage = 2;

    /// <summary>`xares-sidecar status`: the sidecar holds a session but cannot reach the broker (it serves cached leases).</summary>
    public const int NotConnected = 3;

    /// <summary>`xares-sidecar status`: the sidecar runs but holds no broker session (it waits for a bootstrap token).</summary>
    public const int NoSession = 4;

    /// <summary>A check ran and found a problem: `audit verify` (broken chain), `install --check` (another helper would receive tokens).</summary>
    public const int CheckFailed = 5;

    /// <summary>Interrupted by SIGINT or SIGTERM (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
