using System.Diagnostics;
using System.Text;
using Xares.GitHelper.Tests.Support;
using Xares.Protos.Sidecar.V1;
using Xunit.Abstractions;

namespace Xares.GitHelper.Tests;

/// <summary>
/// Runs the helper as a real child process: the published native binary when XARES_NATIVE_DIR holds one,
/// otherwise the JIT build copied next to these tests (through the dotnet host), so the test always runs.
/// </summary>
public sealed class HelperProcessTests(ITestOutputHelper output)
{
    private const string ExecutableName = "git-credential-xares";

    [Fact]
    public async Task Get_CredentialFound_WritesExactUtf8Lines()
    {
        using var sidecar = FakeSidecar.Answering(new SidecarResponse
        {
            GitGet = new GitGetResponse { Found = true, Username = "ålice", Password = "tok-✓", PasswordExpiryUtc = 1_700_000_000 },
        });

        var (exitCode, stdout, stderr) = await RunAsync(sidecar.SocketPath, "protocol=https\nhost=git.example.com\n\n", "get");

        Assert.Equal(0, exitCode);
        Assert.Equal(Encoding.UTF8.GetBytes("username=ålice\npassword=tok-✓\npassword_expiry_utc=1700000000\n"), stdout);
        Assert.Equal("", stderr);
        Assert.Equal(new GitGetRequest { Protocol = "https", Host = "git.example.com" }, Assert.Single(sidecar.Requests).GitGet);
    }

    [Fact]
    public async Task Get_NoSocket_WritesOneStderrLineAndNoStdout()
    {
        using var directory = new SocketDirectory();

        var (exitCode, stdout, stderr) = await RunAsync(directory.SocketPath, "protocol=https\nhost=h\n\n", "get");

        Assert.Equal(HelperCommand.Failure, exitCode);
        Assert.Empty(stdout);
        Assert.Equal($"xares: sidecar not reachable at {directory.SocketPath} (no socket at that path; is xares-sidecar running?)\n", stderr);
    }

    [Fact]
    public async Task Get_InvalidTimeoutVariable_WritesOneStderrLine()
    {
        using var directory = new SocketDirectory();

        var (exitCode, stdout, stderr) = await RunAsync(directory.SocketPath, "protocol=https\nhost=h\n\n", "get", timeoutMilliseconds: "soon");

        Assert.Equal(HelperCommand.Failure, exitCode);
        Assert.Empty(stdout);
        Assert.Equal("xares: XARES_HELPER_TIMEOUT_MS must be a whole number of milliseconds from 1 to 600000\n", stderr);
    }

    [Theory]
    [InlineData("--help", "Usage: git-credential-xares")]
    [InlineData("--version", ".")]
    public async Task HelpOrVersion_EvenWithBadEnvironment_Exit0(string option, string expected)
    {
        using var directory = new SocketDirectory();

        var (exitCode, stdout, stderr) = await RunAsync(directory.SocketPath, "", option, timeoutMilliseconds: "soon");

        Assert.Equal(0, exitCode);
        Assert.Contains(expected, Encoding.UTF8.GetString(stdout), StringComparison.Ordinal);
        Assert.Equal("", stderr);
    }

    private async Task<(int ExitCode, byte[] Stdout, string Stderr)> RunAsync(
        string socketPath, string input, string operation, string timeoutMilliseconds = "10000")
    {
        var start = HelperStartInfo(operation);
        start.Environment[HelperEnvironment.SocketVariable] = socketPath;
        start.Environment[HelperEnvironment.TimeoutVariable] = timeoutMilliseconds;

        using var process = Process.Start(start) ?? throw new InvalidOperationException("helper did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdoutTask = CopyAllAsync(process.StandardOutput.BaseStream, timeout.Token);
        var stderrTask = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.StandardInput.BaseStream.WriteAsync(Encoding.UTF8.GetBytes(input), timeout.Token);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // A configuration error stops the helper before it reads; git ignores the broken pipe too.
        }

        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdoutTask, await stderrTask);
    }

    private ProcessStartInfo HelperStartInfo(string operation)
    {
        var nativeDirectory = Environment.GetEnvironmentVariable("XARES_NATIVE_DIR");
        var native = string.IsNullOrEmpty(nativeDirectory) ? null : Path.Combine(nativeDirectory, ExecutableName);
        ProcessStartInfo start;
        if (native is not null && File.Exists(native))
        {
            output.WriteLine($"running the native binary {native}");
            start = new ProcessStartInfo(native);
        }
        else
        {
            var dll = Path.Combine(AppContext.BaseDirectory, ExecutableName + ".dll");
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
            output.WriteLine($"no native binary in XARES_NATIVE_DIR; running the JIT build {dll} via {host}");
            start = new ProcessStartInfo(host);
            start.ArgumentList.Add(dll);
        }

        start.ArgumentList.Add(operation);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        return start;
    }

    private static async Task<byte[]> CopyAllAsync(Stream source, CancellationToken cancellation)
    {
        using var bytes = new MemoryStream();
        await source.CopyToAsync(bytes, cancellation);
        return bytes.ToArray();
    }
}
