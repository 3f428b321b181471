using System.CommandLine;
using Xares.Broker.Hosting;

namespace Xares.Broker.Docker;

/// <summary>
/// The Docker engines of `xares-broker serve`: `--docker [NAME=]URL`, repeated for several engines,
/// and per engine `--docker-tls-ca|-cert|-key [NAME=]FILE` for a <c>tcp://</c> one. Each also reads
/// its XARES_* variable (comma-separated) or its settings-file key (a string or a list). Every
/// problem is recorded in the settings file's error list, so a start names all of them.
/// </summary>
internal static class DockerCommandLine
{
    private static readonly Option<string[]> Docker = new("--docker")
    {
        Description = "A Docker engine to watch, [NAME=]URL: unix:///var/run/docker.sock or tcp://host:2376 (with --docker-tls-*); "
            + "repeat it for several engines, each with its own name (unnamed: \"default\"); unset: watcher off (env XARES_DOCKER).",
    };
    private static readonly Option<string[]> TlsCa = new("--docker-tls-ca")
    {
        Description = "[NAME=]FILE: the PEM CA that signed the tcp:// engine NAME's server certificate (env XARES_DOCKER_TLS_CA).",
    };
    private static readonly Option<string[]> TlsCert = new("--docker-tls-cert")
    {
        Description = "[NAME=]FILE: the PEM client certificate the broker presents to the tcp:// engine NAME (env XARES_DOCKER_TLS_CERT).",
    };
    private static readonly Option<string[]> TlsKey = new("--docker-tls-key")
    {
        Description = "[NAME=]FILE: the PEM private key of that client certificate (env XARES_DOCKER_TLS_KEY).",
    };

    public static IEnumerable<Option> Options => [Docker, TlsCa, TlsCert, TlsKey];

    public static IReadOnlyList<DockerEndpoint> Read(ParseResult parse)
    {
        var settings = SettingsFile.For(parse);
        var engines = new List<DockerEndpoint>();
        foreach (var (name, url) in Named(parse, Docker, "XARES_DOCKER"))
        {
            var where = settings.Sources(Docker.Name, "XARES_DOCKER");
            if (!DockerEndpoint.IsName(name))
            {
                settings.Error($"{where}: engine name '{name}' must be 1-32 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit.");
            }
            else if (engines.Any(e => e.Name == name))
            {
                settings.Error($"{where}: engine '{name}' is given twice; name each engine (NAME=URL).");
            }
            else if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("unix" or "tcp")
                || (uri.Scheme == "tcp" && (uri.Host.Length == 0 || uri.IsDefaultPort)) || (uri.Scheme == "unix" && uri.AbsolutePath.Length <= 1))
            {
                settings.Error($"{where}: engine '{name}' URL must be unix:///path/to/docker.sock or tcp://host:port, not '{url}'.");
            }
            else if (engines.Any(e => e.Url == uri))
            {
                settings.Error($"{where}: engines '{engines.First(e => e.Url == uri).Name}' and '{name}' are the same engine ({url}).");
            }
            else
            {
                engines.Add(new DockerEndpoint(name, uri));
            }
        }
        var files = new Dictionary<string, Dictionary<string, string>>();
        foreach (var (option, env) in new[] { (TlsCa, "XARES_DOCKER_TLS_CA"), (TlsCert, "XARES_DOCKER_TLS_CERT"), (TlsKey, "XARES_DOCKER_TLS_KEY") })
        {
            var byEngine = files[option.Name] = [];
            foreach (var (name, file) in Named(parse, option, env))
            {
                if (engines.All(e => e.Name != name))
                {
                    settings.Error($"{settings.Sources(option.Name, env)}: there is no --docker engine named '{name}'.");
                }
                else if (!byEngine.TryAdd(name, file))
                {
                    settings.Error($"{settings.Sources(option.Name, env)}: engine '{name}' is given twice.");
                }
            }
        }
        return [.. engines.Select(engine => WithTls(engine, files, settings))];
    }

    /// <summary>A tcp:// engine needs all three files (the Docker API is root on its host: never plaintext); a unix socket takes none.</summary>
    private static DockerEndpoint WithTls(DockerEndpoint engine, Dictionary<string, Dictionary<string, string>> files, SettingsFile settings)
    {
        var given = new[] { TlsCa, TlsCert, TlsKey }.Select(o => files[o.Name].GetValueOrDefault(engine.Name)).ToArray();
        if (engine.Url.Scheme == "unix")
        {
            if (given.Any(f => f is not null))
            {
                settings.Error($"--docker-tls-*: engine '{engine.Name}' is a unix socket; TLS files are for tcp:// engines only.");
            }
            return engine;
        }
        if (given.Any(f => f is null))
        {
            settings.Error($"--docker: tcp:// engine '{engine.Name}' needs --docker-tls-ca, --docker-tls-cert and --docker-tls-key "
                + $"({string.Join(", ", new[] { TlsCa, TlsCert, TlsKey }.Where((_, i) => given[i] is null).Select(o => o.Name))} missing).");
            return engine;
        }
        return engine with { Tls = new DockerTls(given[0]!, given[1]!, given[2]!) };
    }

    /// <summary>The values of a `[NAME=]VALUE` option as (name, value); an unnamed value belongs to the default engine.</summary>
    private static IEnumerable<(string Name, string Value)> Named(ParseResult parse, Option<string[]> option, string env) =>
        OptionValues.Texts(parse, option, env)
            .SelectMany(text => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(text => text.IndexOf('=') is var eq and > 0 && !text[..eq].Contains(':') && !text[..eq].Contains('/')
                ? (text[..eq].Trim(), text[(eq + 1)..].Trim())
                : (DockerEndpoint.DefaultName, text));
}
