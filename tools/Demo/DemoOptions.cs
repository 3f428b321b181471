namespace Xares.Demo;

/// <summary>The demo's command line: <c>[--keep] [--minted] [--help]</c>.</summary>
internal sealed record DemoOptions(bool Keep, bool Minted, bool ShowHelp)
{
    public const string Usage = """
        usage: xares-demo [--keep] [--minted] [--help]

        Runs Xares end to end on this machine and narrates each step: a broker on SQLite, a local
        git server whose token is generated at run time, a registered workspace with its sidecar,
        git clone/commit/push through git-credential-xares, the audit trail, revocation within a
        second, and a scan proving the token never reached the workspace's disk. Nothing secret is
        printed. Exits non-zero if any step fails.

        Needs the published artifacts (bash scripts/publish.sh, or simply bash scripts/demo.sh).
        XARES_ARTIFACTS overrides where they are looked for (default: <repo>/artifacts).

          --keep     keep the demo's temporary folder (logs, homes, work trees, broker data) for
                     inspection; the processes are stopped either way
          --minted   add a step (about 30 s longer): a GitHub App is registered with a GitHub API
                     stand-in whose installation tokens live 20 s; a workspace naming acme/app
                     clones with a minted token, waits for it to expire, pushes with a newly
                     minted one (two mint records in the audit log), and the git host refuses
                     the expired token. The broker then runs with --outbound-allow 127.0.0.1
                     (to reach the stand-in) and --minted-reuse-margin-seconds 5
          --help     show this text
        """;

    /// <summary>Parses the arguments; null (with a message) for anything unknown.</summary>
    public static DemoOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        var keep = false;
        var minted = false;
        var help = false;
        foreach (var arg in args)
        {
            switch (arg)
            {
                case "--keep":
                    keep = true;
                    break;
                case "--minted":
                    minted = true;
                    break;
                case "--help" or "-h" or "-?":
                    help = true;
                    break;
                default:
                    error = $"unknown argument '{arg}'";
                    return null;
            }
        }

        return new DemoOptions(keep, minted, help);
    }
}
