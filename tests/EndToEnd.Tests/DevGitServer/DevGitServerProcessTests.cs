using System.Diagnostics;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.DevGitServer;

/// <summary><c>xares-dev-git-server</c> as the README demo runs it: accounts on stdin, URL on stdout.</summary>
public sealed class DevGitServerProcessTests : IDisposable
{
    private static readonly string ServerDll = Path.Combine(AppContext.BaseDirectory, "xares-dev-git-server.dll");

    private readonly ScratchDirectory directory = ScratchDirectory.Create();
    private readonly List<Process> started = [];

    [Fact]
    public async Task Serve_AccountsOnStdin_PrintsUrlAndServesCloneWithoutLoggingToken()
    {
        var token = TestSecrets.NewToken();
        var server = StartServer("--create-repo", "org1/app.git");
        await server.StandardInput.WriteLineAsync($$"""{"username":"alice","token":"{{token}}","pathPrefix":"org1/"}""");
        server.StandardInput.Close();
        var stderr = server.StandardError.ReadToEndAsync();

        var url = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);

        var git = GitWorkspace.Create(directory, sidecarSocket: null);
        git.Environment["XARES_TEST_TOKEN"] = token;
        await git.GitAsync(
            "-c", "credential.helper=!f() { echo username=alice; echo password=$XARES_TEST_TOKEN; }; f",
            "clone", $"{url}/org1/app.git", "app").ShouldSucceedAsync();

        server.Kill();
        await server.WaitForExitAsync();
        var log = await stderr;
        Assert.Contains("as alice", log, StringComparison.Ordinal);
        Assert.DoesNotContain(token, log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_MalformedAccountLine_ExitsWithErrorNotEchoingTheLine()
    {
        var token = TestSecrets.NewToken();
        var server = StartServer();
        await server.StandardInput.WriteLineAsync($"{{\"username\":\"alice\",\"token\":\"{token}\"");
        server.StandardInput.Close();
        var stdout = server.StandardOutput.ReadToEndAsync();
        var stderr = server.StandardError.ReadToEndAsync();

        await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, server.ExitCode);
        Assert.Contains("account line 1 is not valid JSON", await stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(token, await stderr + await stdout, StringComparison.Ordinal);
    }

    private Process StartServer(params string[] extraArguments)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList = { ServerDll, "--root", directory.Sub("repos"), "--url", "http://127.0.0.1:0" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in extraArguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        started.Add(process);
        return process;
    }

    public void Dispose()
    {
        foreach (var process in started)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }

            process.Dispose();
        }

        directory.Dispose();
    }
}
