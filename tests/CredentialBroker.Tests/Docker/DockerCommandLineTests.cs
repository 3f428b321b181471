using Xares.Broker.Docker;
using Xares.Broker.Hosting;

namespace Xares.Broker.Tests.Docker;

/// <summary>`--docker [NAME=]URL`, repeatable, and the per-engine `--docker-tls-*` files, from flags and the settings file.</summary>
public sealed class DockerCommandLineTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("xares-docker-cli-").FullName;

    [Fact]
    public void Read_OneUnnamedEngine_IsTheDefaultEngine()
    {
        var engine = Assert.Single(Read("serve", "--docker", "unix:///var/run/docker.sock").DockerEngines);

        Assert.Equal(new DockerEndpoint("default", new Uri("unix:///var/run/docker.sock")), engine);
    }

    [Fact]
    public void Read_SeveralEnginesWithTls_EachNamedWithItsOwnFiles()
    {
        var options = Read("serve", "--docker", "unix:///var/run/docker.sock", "--docker", "east=tcp://10.0.0.5:2376",
            "--docker-tls-ca", "east=/etc/xares/east/ca.pem", "--docker-tls-cert", "east=/etc/xares/east/cert.pem", "--docker-tls-key", "east=/etc/xares/east/key.pem");

        Assert.Equal(
            [
                new DockerEndpoint("default", new Uri("unix:///var/run/docker.sock")),
                new DockerEndpoint("east", new Uri("tcp://10.0.0.5:2376"), new DockerTls("/etc/xares/east/ca.pem", "/etc/xares/east/cert.pem", "/etc/xares/east/key.pem")),
            ],
            options.DockerEngines);
    }

    [Fact]
    public void Read_SettingsFileLists_SameAsFlags()
    {
        var config = Path.Combine(_directory, "settings.json");
        File.WriteAllText(config, """
            {
              "docker": ["a=unix:///run/a.sock", "b=tcp://engine-b.internal:2376"],
              "docker-tls-ca": "b=/b/ca.pem", "docker-tls-cert": ["b=/b/cert.pem"], "docker-tls-key": ["b=/b/key.pem"]
            }
            """);

        var options = Read("serve", "--config", config);

        Assert.Equal(["a", "b"], options.DockerEngines.Select(e => e.Name));
        Assert.Equal(new DockerTls("/b/ca.pem", "/b/cert.pem", "/b/key.pem"), options.DockerEngines[1].Tls);
        Assert.Null(options.DockerEngines[0].Tls);
    }

    [Fact]
    public void Read_BadEngines_EveryProblemNamedAtOnce()
    {
        var error = Assert.Throws<SettingsException>(() => Read("serve",
            "--docker", "unix:///a.sock", "--docker", "unix:///b.sock",          // two unnamed: both "default"
            "--docker", "Bad_Name=unix:///c.sock",                              // not a name
            "--docker", "web=http://engine:2375",                               // not unix or tcp
            "--docker", "plain=tcp://engine:2375",                              // tcp without TLS
            "--docker", "same=unix:///a.sock",                                  // an engine already given
            "--docker-tls-ca", "ghost=/ca.pem"));                               // no such engine

        Assert.Contains("engine 'default' is given twice", error.Message, StringComparison.Ordinal);
        Assert.Contains("engine name 'Bad_Name' must be 1-32 lowercase letters", error.Message, StringComparison.Ordinal);
        Assert.Contains("engine 'web' URL must be", error.Message, StringComparison.Ordinal);
        Assert.Contains("tcp:// engine 'plain' needs --docker-tls-ca, --docker-tls-cert and --docker-tls-key (--docker-tls-ca, --docker-tls-cert, --docker-tls-key missing)",
            error.Message, StringComparison.Ordinal);
        Assert.Contains("engines 'default' and 'same' are the same engine", error.Message, StringComparison.Ordinal);
        Assert.Contains("there is no --docker engine named 'ghost'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TlsForUnixSocketOrTcpWithoutPort_Refused()
    {
        var error = Assert.Throws<SettingsException>(() => Read("serve", "--docker", "unix:///a.sock", "--docker-tls-cert", "/cert.pem",
            "--docker", "noport=tcp://engine"));

        Assert.Contains("engine 'default' is a unix socket; TLS files are for tcp:// engines only", error.Message, StringComparison.Ordinal);
        Assert.Contains("engine 'noport' URL must be", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NoDocker_WatcherOff()
    {
        Assert.Empty(Read("serve").DockerEngines);
    }

    public void Dispose() => Directory.Delete(_directory, true);

    private static BrokerOptions Read(params string[] args) => BrokerCommandLine.Read(BrokerCommandLine.Create().Parse(args));
}
