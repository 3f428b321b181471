namespace Xares.DevKit;

/// <summary>
/// A workspace user's shell as git sees it: an isolated HOME and global git config, no system
/// config, no terminal prompts, and (when given) the sidecar socket and the published helper on PATH.
/// </summary>
internal sealed class GitWorkspace
{
    private GitWorkspace(string home, string workRoot, string logFile, Dictionary<string, string> environment)
    {
        Home = home;
        WorkRoot = workRoot;
        LogFile = logFile;
        Environment = environment;
    }

    public string Home { get; }

    /// <summary>Where clones go; git commands without a working directory run here.</summary>
    public string WorkRoot { get; }

    public string GlobalConfig => Path.Combine(Home, ".gitconfig");

    public string LogFile { get; }

    /// <summary>The exact environment of every command; tests may add variables (never secrets in arguments).</summary>
    public Dictionary<string, string> Environment { get; }

    public static GitWorkspace Create(ScratchDirectory directory, string? sidecarSocket, string name = "workspace")
    {
        var home = directory.Sub(Path.Combine(name, "home"));
        var environment = ProcessRunner.BaseEnvironment(home);
        environment["GIT_CONFIG_GLOBAL"] = Path.Combine(home, ".gitconfig");
        environment["GIT_CONFIG_NOSYSTEM"] = "1";
        environment["GIT_TERMINAL_PROMPT"] = "0";
        environment["XDG_CONFIG_HOME"] = Path.Combine(home, ".config");
        environment["TMPDIR"] = directory.Sub(Path.Combine(name, "tmp"));
        environment["GIT_AUTHOR_NAME"] = environment["GIT_COMMITTER_NAME"] = "Workspace User";
        environment["GIT_AUTHOR_EMAIL"] = environment["GIT_COMMITTER_EMAIL"] = "user@xares.invalid";
        if (sidecarSocket is not null)
        {
            environment["XARES_SIDECAR_SOCKET"] = sidecarSocket;
            // As in a workspace image: the helper sits on PATH next to the sidecar.
            environment["PATH"] = Artifacts.NativeDirectory + ":" + environment["PATH"];
        }

        return new GitWorkspace(home, directory.Sub(Path.Combine(name, "work")), Path.Combine(directory.Logs, $"{name}-commands.log"), environment);
    }

    public Task<CommandResult> GitAsync(params string[] arguments) => GitInAsync(WorkRoot, arguments);

    public Task<CommandResult> GitInAsync(string workingDirectory, params string[] arguments) =>
        RunAsync("git", arguments, workingDirectory: workingDirectory);

    /// <summary>Runs <c>xares-sidecar install</c> as this user: git is configured per served host (rule h).</summary>
    public Task<CommandResult> InstallXaresAsync() => RunAsync(Artifacts.Sidecar, ["install"]);

    /// <summary>Runs the published helper directly, e.g. <c>get</c> with <c>protocol=…\nhost=…\n\n</c> on stdin.</summary>
    public Task<CommandResult> CredentialHelperAsync(string action, string input) => RunAsync(Artifacts.GitHelper, [action], input);

    public Task<CommandResult> RunAsync(string fileName, IEnumerable<string> arguments, string? stdin = null, string? workingDirectory = null, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync(fileName, arguments, Environment, LogFile, workingDirectory ?? WorkRoot, stdin, timeout);
}
