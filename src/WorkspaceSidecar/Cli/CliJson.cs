using System.Text.Json;
using System.Text.Json.Serialization;
using Xares.Sidecar.Install;

namespace Xares.Sidecar.Cli;

/// <summary>
/// The `--json` shapes of the sidecar's read commands (docs/cli.md): camelCase, absent values as
/// null, times in UTC. Source-generated, as the sidecar is native AOT. Fields are only ever added.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(StatusReport))]
[JsonSerializable(typeof(InstallCheckReport))]
internal sealed partial class CliJson : JsonSerializerContext
{
    public static Task WriteAsync<T>(TextWriter output, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        output.WriteLineAsync(JsonSerializer.Serialize(value, type));
}

/// <summary>`xares-sidecar status --json`.</summary>
internal sealed record StatusReport(
    string BrokerUrl,
    bool Connected,
    bool HasSession,
    string? WorkspaceId,
    DateTime? SessionExpiresAt,
    DateTime? TokenExpiresAt,
    int CachedLeases,
    long RevocationSequence,
    string? LastError);
