namespace Xares.Sidecar.Install;

/// <summary>
/// Where `install`, `install --check` and `uninstall` write and look: the git config scope, the
/// environment files and shell hooks (absent with --no-env), and the helper-chain check run in
/// the invoking process's environment.
/// </summary>
internal sealed record InstallLayout(GitConfigWriter Writer, GitEnvironmentFiles Files, ShellHooks? Hooks, HelperChainCheck Check)
{
    public static InstallLayout Create(bool system, string? envDirectory, string etcDirectory, bool noEnv, Func<string, string?> environment)
    {
        var files = new GitEnvironmentFiles(envDirectory ?? GitEnvironmentFiles.DefaultDirectory(system, environment));
        var hooks = noEnv ? null : system ? ShellHooks.ForSystem(etcDirectory) : ShellHooks.ForUser(GitEnvironmentFiles.Home(environment));
        return new InstallLayout(
            new GitConfigWriter(system ? GitConfigScope.System : GitConfigScope.Global),
            files,
            hooks,
            new HelperChainCheck("git", null, environment));
    }
}
