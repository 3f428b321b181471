namespace Xares.Broker.Docker;

/// <summary>Client certificate and CA files for a <c>tcp://</c> engine (the files `docker --tlsverify` takes).</summary>
internal sealed record DockerTls(string CaFile, string CertificateFile, string KeyFile);

/// <summary>
/// One Docker engine the broker watches (`--docker [NAME=]URL`): a unix socket, or <c>tcp://</c>
/// with a TLS client certificate. The name is part of every container's identity (engine, id), so
/// it must stay the same for an engine across restarts; an engine given without a name is
/// <see cref="DefaultName"/>, which is also what rows from before several engines were supported carry.
/// </summary>
internal sealed record DockerEndpoint(string Name, Uri Url, DockerTls? Tls = null)
{
    public const string DefaultName = "default";

    /// <summary>An unnamed engine at <paramref name="url"/> without TLS (tests and the single-engine case).</summary>
    public static DockerEndpoint Unix(string url, string name = DefaultName) => new(name, new Uri(url));

    /// <summary>Names are short and plain: they appear in audit details, logs, metric labels and lease names.</summary>
    public static bool IsName(string name) =>
        name.Length is > 0 and <= 32 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.');

    public override string ToString() => $"{Name}={Url}{(Tls is null ? "" : " (TLS client certificate)")}";
}
