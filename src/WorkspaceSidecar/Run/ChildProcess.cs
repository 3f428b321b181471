using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Xares.Sidecar.Native;

namespace Xares.Sidecar.Run;

/// <summary>
/// Runs the tool: CMD exec'd with an exact environment (never a secret in its arguments), stdin
/// inherited, stdout/stderr inherited or (when secrets must be masked and they are pipes) copied
/// through a <see cref="SecretMasker"/>, signals forwarded, and its exit code returned (128+n when
/// a signal n killed it).
/// </summary>
internal static class ChildProcess
{
    private const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGUSR1 = 10, SIGUSR2 = 12, SIGTERM = 15;

    public static async Task<int> RunAsync(
        IReadOnlyList<string> command,
        IReadOnlyDictionary<string, string> environment,
        IReadOnlyCollection<string> secretsToMask)
    {
        var maskOut = secretsToMask.Count > 0 && Console.IsOutputRedirected;
        var maskErr = secretsToMask.Count > 0 && Console.IsErrorRedirected;
        var info = new ProcessStartInfo(command[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = maskOut,
            RedirectStandardError = maskErr,
        };
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        // Handlers first: a child quick enough to signal us before they exist would otherwise
        // meet the runtime's default (exit 0 on SIGTERM) and be orphaned.
        var forwarder = new SignalForwarder();
        var registrations = forwarder.Register();
        Process child;
        try
        {
            child = Process.Start(info) ?? throw new SidecarException($"cannot start {command[0]}");
        }
        catch (Win32Exception ex)
        {
            Dispose(registrations);
            throw new SidecarException($"cannot start {command[0]}: {ex.Message}", ex);
        }
        using (child)
        {
            forwarder.Started(child.Id);
            try
            {
                var copies = new List<Task>();
                if (maskOut)
                {
                    copies.Add(new SecretMasker(secretsToMask).CopyAsync(child.StandardOutput.BaseStream, Console.OpenStandardOutput(), CancellationToken.None));
                }
                if (maskErr)
                {
                    copies.Add(new SecretMasker(secretsToMask).CopyAsync(child.StandardError.BaseStream, Console.OpenStandardError(), CancellationToken.None));
                }
                await child.WaitForExitAsync(CancellationToken.None);
                await Task.WhenAll(copies);
                return child.ExitCode;
            }
            finally
            {
                Dispose(registrations);
            }
        }
    }

    private static void Dispose(List<PosixSignalRegistration> registrations)
    {
        foreach (var registration in registrations)
        {
            registration.Dispose();
        }
    }

    /// <summary>Forwards signals to the child; those that arrive before it has a pid are sent once it has one.</summary>
    private sealed class SignalForwarder
    {
        private readonly Lock _lock = new();
        private readonly List<int> _early = [];
        private int _pid;

        public List<PosixSignalRegistration> Register()
        {
            // Keys typed at a terminal (^C, ^\) already reach the child: the tty signals the whole
            // foreground process group. Sending them again would make a tool see two.
            var terminalDelivers = Libc.tcgetpgrp(0) is var group && group > 0 && group == Libc.getpgrp();
            var registrations = new List<PosixSignalRegistration>();
            foreach (var signal in new[] { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 })
            {
                var forward = !(terminalDelivers && signal is SIGINT or SIGQUIT);
                registrations.Add(PosixSignalRegistration.Create((PosixSignal)signal, context =>
                {
                    // Never die before the child: its exit code is ours.
                    context.Cancel = true;
                    if (forward)
                    {
                        Forward(signal);
                    }
                }));
            }
            return registrations;
        }

        public void Started(int pid)
        {
            lock (_lock)
            {
                _pid = pid;
                foreach (var signal in _early)
                {
                    _ = Libc.kill(pid, signal);
                }
                _early.Clear();
            }
        }

        private void Forward(int signal)
        {
            lock (_lock)
            {
                if (_pid == 0)
                {
                    _early.Add(signal);
                }
                else
                {
                    _ = Libc.kill(_pid, signal);
                }
            }
        }
    }
}
