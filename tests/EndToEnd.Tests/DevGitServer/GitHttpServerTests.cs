using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Xares.DevGitServer;
using Xares.EndToEnd.Tests.Infrastructure;

namespace Xares.EndToEnd.Tests.DevGitServer;

/// <summary>The dev git server with real git: the token is demanded, checked and scoped.</summary>
public sealed class GitHttpServerTests : IAsyncLifetime
{
    private const string TokenVariable = "XARES_TEST_TOKEN";

    private readonly ScratchDirectory directory = ScratchDirectory.Create();
    private readonly string aliceToken = TestSecrets.NewToken();
    private readonly string scopedToken = TestSecrets.NewToken();
    private GitHttpServer server = null!;
    private GitWorkspace git = null!;

    public async Task InitializeAsync()
    {
        server = await GitHttpServer.StartAsync(new GitHttpServerOptions
        {
            RepositoriesRoot = directory.Sub("repos"),
            Accounts = [new GitAccount("alice", aliceToken), new GitAccount("scoped", scopedToken, "org1/")],
        });
        await server.CreateRepositoryAsync("org1/app.git");
        await server.CreateRepositoryAsync("org1-evil/app.git");
        await server.CreateRepositoryAsync("org2/lib.git");
        git = GitWorkspace.Create(directory, sidecarSocket: null);
    }

    [Fact]
    public async Task Clone_RightToken_SucceedsAfterChallenge()
    {
        await GitWithToken("alice", aliceToken, "clone", server.RepositoryUrl("org1/app.git"), "app").ShouldSucceedAsync();

        Assert.True(File.Exists(Path.Combine(git.WorkRoot, "app", BareRepository.InitialFile)));
        var attempts = server.AuthAttempts;
        Assert.Equal(AuthOutcome.MissingCredentials, attempts[0].Outcome);
        Assert.Contains(attempts, a => a is { Succeeded: true, Username: "alice" } && a.Path.StartsWith("/org1/app.git/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Push_RightToken_UpdatesBareRepository()
    {
        await GitWithToken("alice", aliceToken, "clone", server.RepositoryUrl("org2/lib.git"), "lib").ShouldSucceedAsync();
        var work = Path.Combine(git.WorkRoot, "lib");
        await File.WriteAllTextAsync(Path.Combine(work, "change.txt"), "pushed\n");
        await git.GitInAsync(work, "add", "change.txt").ShouldSucceedAsync();
        await git.GitInAsync(work, "commit", "-m", "Change").ShouldSucceedAsync();

        await GitWithTokenIn(work, "alice", aliceToken, "push", "origin", "main").ShouldSucceedAsync();

        var log = await git.GitAsync("--git-dir", Path.Combine(server.RepositoriesRoot, "org2", "lib.git"), "log", "--format=%s", "main").ShouldSucceedAsync();
        Assert.Equal(["Change", "Initial commit"], log.Stdout.Trim().Split('\n'));
    }

    [Fact]
    public async Task LsRemote_WrongToken_FailsAuthentication()
    {
        var result = await GitWithToken("alice", TestSecrets.NewToken(), "ls-remote", server.RepositoryUrl("org1/app.git")).ShouldFailAsync();

        Assert.Contains("Authentication failed", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(server.AuthAttempts, a => a is { Outcome: AuthOutcome.WrongCredentials, Username: "alice" });
        Assert.DoesNotContain(server.AuthAttempts, a => a.Succeeded);
    }

    [Fact]
    public async Task LsRemote_NoCredentials_FailsWithoutPrompting()
    {
        var result = await git.GitAsync("ls-remote", server.RepositoryUrl("org1/app.git")).ShouldFailAsync();

        Assert.Contains("terminal prompts disabled", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InfoRefs_NoAuthorization_Answers401WithBasicChallenge()
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(server.RepositoryUrl("org1/app.git/info/refs?service=git-upload-pack"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Basic realm=\"xares-dev-git\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Theory]
    [InlineData("org1/app.git", true)]
    [InlineData("org2/lib.git", false)]
    [InlineData("org1-evil/app.git", false)]
    public async Task LsRemote_PathLimitedAccount_ReachesOnlyItsPrefix(string repository, bool allowed)
    {
        var result = await GitWithToken("scoped", scopedToken, "ls-remote", server.RepositoryUrl(repository));

        Assert.True(result.Succeeded == allowed, result.ToString());
        if (!allowed)
        {
            Assert.Contains("403", result.Stderr, StringComparison.Ordinal);
            Assert.Contains(server.AuthAttempts, a => a is { Outcome: AuthOutcome.OutsidePathPrefix, Username: "scoped" });
        }
    }

    [Fact]
    public async Task UploadPack_GzipRequestBody_ServesPack()
    {
        var head = (await git.GitAsync("--git-dir", Path.Combine(server.RepositoriesRoot, "org1", "app.git"), "rev-parse", "main").ShouldSucceedAsync()).Stdout.Trim();
        var body = new MemoryStream();
        await using (var gzip = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true))
        {
            await gzip.WriteAsync(Encoding.ASCII.GetBytes($"0032want {head}\n00000009done\n"));
        }

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, server.RepositoryUrl("org1/app.git/git-upload-pack"))
        {
            Content = new ByteArrayContent(body.ToArray()),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-git-upload-pack-request");
        request.Content.Headers.ContentEncoding.Add("gzip");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"alice:{aliceToken}")));
        using var response = await http.SendAsync(request);
        var payload = Encoding.Latin1.GetString(await response.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-git-upload-pack-result", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("0008NAK\nPACK", payload, StringComparison.Ordinal);
    }

    [Fact]
    public void AuthRecords_ToString_NeverShowToken()
    {
        var account = new GitAccount("alice", aliceToken, "org1/");

        Assert.DoesNotContain(aliceToken, account.ToString(), StringComparison.Ordinal);
    }

    // A test-only helper reading the token from the child's environment, never from an argument.
    private Task<CommandResult> GitWithToken(string username, string token, params string[] arguments) =>
        GitWithTokenIn(git.WorkRoot, username, token, arguments);

    private Task<CommandResult> GitWithTokenIn(string workingDirectory, string username, string token, params string[] arguments)
    {
        git.Environment[TokenVariable] = token;
        return git.GitInAsync(workingDirectory,
        [
            "-c", "credential.helper=",
            "-c", $"credential.helper=!f() {{ echo username={username}; echo password=${TokenVariable}; }}; f",
            .. arguments,
        ]);
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        directory.Dispose();
    }
}
