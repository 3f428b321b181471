using System.Text.Json;
using System.Text.Json.Serialization;
using Xares.Broker.Audit;
using Xares.Broker.Vault;

namespace Xares.Broker.Hosting;

/// <summary>
/// The `--json` shapes of the broker's read commands (docs/cli.md), camelCase like the REST API;
/// fields are only ever added. `audit verify --json` is the body of GET /api/v1/audit/verify.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(KeysStatusReport))]
[JsonSerializable(typeof(AuditVerification))]
internal sealed partial class BrokerCliJson : JsonSerializerContext;

/// <summary>`xares-broker keys status --json`.</summary>
internal sealed record KeysStatusReport(IReadOnlyList<KeyVersionReport> Versions, int? UnfinishedRotation, string? RunningOperation)
{
    public static KeysStatusReport From(IReadOnlyList<KeyRotation.VersionStatus> versions, int? unfinished, string? holder) => new(
        [.. versions.Select(v => new KeyVersionReport(v.Version, v.Current, v.Prunable,
            [.. KeyringUsage.References.Select(r => new KeyUsageReport(r.Table, r.Column, r.What, v.Usage.GetValueOrDefault(r.What)))]))],
        unfinished,
        holder);
}

internal sealed record KeyVersionReport(int Version, bool Current, bool Prunable, IReadOnlyList<KeyUsageReport> Usage);

/// <summary>How many rows of <see cref="Table"/> name the version in <see cref="Column"/>.</summary>
internal sealed record KeyUsageReport(string Table, string Column, string What, long Count);
