using System.Collections.Concurrent;
using System.Diagnostics;

namespace Xares.DevGitServer;

/// <summary>Authenticates a request and hands it to <c>git http-backend</c> as a CGI program.</summary>
internal sealed class GitCgiHandler(
    string repositoriesRoot,
    string gitExecutable,
    AccountGate gate,
    ConcurrentQueue<AuthAttempt> attempts,
    TimeProvider time,
    ILogger<GitCgiHandler> logger,
    TokenIntrospection? introspection = null)
{
    public const string Realm = "xares-dev-git";

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        if (!RepositoryPath.TrySplit(path, out var segments))
        {
            GitServerLog.BadPath(logger, path);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var (outcome, username) = gate.Check(request.Headers.Authorization, segments);
        if (outcome == AuthOutcome.WrongCredentials && introspection is not null && AccountGate.TryParseBasic(request.Headers.Authorization, out _, out var token))
        {
            var push = path.EndsWith("/git-receive-pack", StringComparison.Ordinal) || request.Query["service"] == "git-receive-pack";
            outcome = await introspection.CheckAsync(token, segments, push, context.RequestAborted);
        }
        attempts.Enqueue(new AuthAttempt(time.GetUtcNow(), username, path, outcome));
        switch (outcome)
        {
            case AuthOutcome.MissingCredentials or AuthOutcome.WrongCredentials:
                GitServerLog.Refused(logger, request.Method, path, outcome, username);
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\"";
                return;
            case AuthOutcome.OutsidePathPrefix or AuthOutcome.ReadOnly:
                GitServerLog.Refused(logger, request.Method, path, outcome, username);
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
        }

        await RunBackendAsync(context, path, username!);
        GitServerLog.Served(logger, request.Method, path, username!, context.Response.StatusCode);
    }

    private async Task RunBackendAsync(HttpContext context, string path, string username)
    {
        var request = context.Request;
        var aborted = context.RequestAborted;
        using var process = new Process { StartInfo = BackendStartInfo(request, path, username, context.Connection.RemoteIpAddress?.ToString()) };
        process.Start();
        using var killOnAbort = aborted.Register(() => TryKill(process));

        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var input = PumpRequestBodyAsync(request.Body, process.StandardInput.BaseStream, aborted);

        var output = process.StandardOutput.BaseStream;
        var head = await CgiResponseHeaders.ReadAsync(output, aborted);
        if (head is null)
        {
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
        }
        else
        {
            var (status, headers, bodyStart) = head.Value;
            context.Response.StatusCode = status;
            foreach (var (name, value) in headers)
            {
                context.Response.Headers.Append(name, value);
            }

            await context.Response.Body.WriteAsync(bodyStart, aborted);
            await output.CopyToAsync(context.Response.Body, aborted);
        }

        await input;
        await process.WaitForExitAsync(CancellationToken.None);
        var errors = await stderr;
        if (process.ExitCode != 0)
        {
            GitServerLog.BackendFailed(logger, process.ExitCode, path, errors.Trim());
        }
    }

    private ProcessStartInfo BackendStartInfo(HttpRequest request, string path, string username, string? remoteAddress)
    {
        var info = new ProcessStartInfo(gitExecutable)
        {
            ArgumentList = { "http-backend" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Start from nothing so the server's own git config and credentials never leak in.
        var env = info.Environment;
        env.Clear();
        env["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        env["HOME"] = repositoriesRoot;
        env["GIT_CONFIG_NOSYSTEM"] = "1";
        env["GIT_CONFIG_GLOBAL"] = "/dev/null";
        // Pushes are allowed for every authenticated account (all requests here are).
        env["GIT_CONFIG_COUNT"] = "1";
        env["GIT_CONFIG_KEY_0"] = "http.receivepack";
        env["GIT_CONFIG_VALUE_0"] = "true";
        env["GIT_PROJECT_ROOT"] = repositoriesRoot;
        env["GIT_HTTP_EXPORT_ALL"] = "1";
        env["GATEWAY_INTERFACE"] = "CGI/1.1";
        env["SERVER_PROTOCOL"] = request.Protocol;
        env["REQUEST_METHOD"] = request.Method;
        env["PATH_INFO"] = path;
        env["QUERY_STRING"] = request.QueryString.HasValue ? request.QueryString.Value![1..] : "";
        env["REMOTE_USER"] = username;
        env["REMOTE_ADDR"] = remoteAddress ?? "127.0.0.1";
        if (request.ContentType is { } contentType)
        {
            env["CONTENT_TYPE"] = contentType;
        }

        // Without a length (chunked upload) http-backend reads the body to EOF.
        if (request.ContentLength is { } length)
        {
            env["CONTENT_LENGTH"] = length.ToString();
        }

        // Kestrel does not decompress; http-backend inflates gzip bodies itself.
        if (request.Headers.ContentEncoding.ToString() is { Length: > 0 } encoding)
        {
            env["HTTP_CONTENT_ENCODING"] = encoding;
        }

        if (request.Headers["Git-Protocol"].ToString() is { Length: > 0 } protocol)
        {
            env["HTTP_GIT_PROTOCOL"] = protocol;
        }

        return info;
    }

    private static async Task PumpRequestBodyAsync(Stream body, Stream stdin, CancellationToken cancellationToken)
    {
        try
        {
            await body.CopyToAsync(stdin, cancellationToken);
        }
        catch (IOException)
        {
            // http-backend stopped reading (it answered an error early); its output says why.
        }
        finally
        {
            try
            {
                await stdin.DisposeAsync();
            }
            catch (IOException)
            {
                // Same: the pipe is already closed on the other side.
            }
        }
    }

    private static void TryKill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
