using System.CommandLine;
using Microsoft.Extensions.Logging.Console;
using Xares.DevGitServer;

var root = new Option<string>("--root") { Description = "Folder of bare repositories (created if missing).", Required = true };
var url = new Option<string>("--url") { Description = "Listen URL; port 0 picks a free one.", DefaultValueFactory = _ => "http://127.0.0.1:0" };
var createRepos = new Option<string[]>("--create-repo") { Description = "Create a bare repository with one commit at this relative path unless it exists (repeatable).", AllowMultipleArgumentsPerToken = false };

var introspect = new Option<string?>("--introspect-url") { Description = "Also accept tokens this introspection endpoint calls active (the GitHub API stand-in's /_standin/introspect), for their repositories only." };

var introspectClient = new Option<string?>("--introspect-client-id") { Description = "Introspect as an RFC 7662 resource server with this client id; the secret is read from DEVGIT_INTROSPECT_CLIENT_SECRET (never an argument)." };

var command = new RootCommand("Smart-HTTP git server demanding HTTP Basic auth. Reads accounts as JSON lines on stdin ({\"username\",\"token\",\"pathPrefix\"?}) until EOF or a blank line; prints its URL when ready.")
{
    root, url, createRepos, introspect, introspectClient,
};

command.SetAction(async (parse, cancellationToken) =>
{
    try
    {
        var accounts = await AccountLines.ReadAsync(Console.In, cancellationToken);
        await using var server = await GitHttpServer.StartAsync(new GitHttpServerOptions
        {
            RepositoriesRoot = parse.GetRequiredValue(root),
            Url = parse.GetRequiredValue(url),
            Accounts = accounts,
            TokenIntrospectionUrl = parse.GetValue(introspect) is { } introspectUrl ? new Uri(introspectUrl) : null,
            IntrospectionClientId = parse.GetValue(introspectClient),
            IntrospectionClientSecret = parse.GetValue(introspectClient) is null ? null : Environment.GetEnvironmentVariable("DEVGIT_INTROSPECT_CLIENT_SECRET"),
            // stdout carries only the URL; logs go to stderr.
            ConfigureLogging = logging => logging
                .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
                .AddSimpleConsole().Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace),
        }, cancellationToken);

        // Re-running the demo keeps what earlier runs pushed.
        foreach (var repo in (parse.GetValue(createRepos) ?? []).Where(r => !Directory.Exists(Path.Combine(server.RepositoriesRoot, r))))
        {
            await server.CreateRepositoryAsync(repo, cancellationToken);
        }

        Console.Out.WriteLine(server.BaseUrl);
        Console.Out.Flush();
        await server.WaitForShutdownAsync(cancellationToken);
        return 0;
    }
    catch (Exception e) when (e is FormatException or IOException or InvalidOperationException or ArgumentException)
    {
        await Console.Error.WriteLineAsync($"xares-dev-git-server: {e.Message}");
        return 1;
    }
});

return await command.Parse(args).InvokeAsync();
