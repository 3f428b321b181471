using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>The query string of GET /api/v1/audit/export: the query's filters, without paging.</summary>
internal sealed record AuditExportParameters(string? UserId, string? WorkspaceId, string? CredentialId, string? Action, string? Since)
{
    public AuditQueryParameters AsQuery() => new(UserId, WorkspaceId, CredentialId, Action, Since, Limit: null, Cursor: null);
}

/// <summary>
/// Streams every record a query matches as JSON lines, oldest first, reading the database a page
/// at a time (a short read per page, so an export of a large log neither holds a connection nor
/// the whole log). Each line carries the key version and MAC, so an export of the whole log can be
/// checked offline with the audit key.
/// </summary>
internal static class AuditExport
{
    public const string ContentType = "application/x-ndjson";
    internal const int PageSize = 500;

    public static async Task WriteAsync(Stream body, AuditQuery query, Database database, JsonSerializerOptions options, int pageSize, CancellationToken cancellationToken)
    {
        var lineType = (JsonTypeInfo<AuditExportLine>)options.GetTypeInfo(typeof(AuditExportLine));
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder });
        long after = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await database.ReadAsync(connection => query.ReadExportPage(connection, after, pageSize));
            foreach (var (record, mac) in page)
            {
                JsonSerializer.Serialize(writer, AuditExportLine.From(record, mac), lineType);
                writer.Flush();
                buffer.Write("\n"u8);
                writer.Reset();
            }
            if (buffer.WrittenCount > 0)
            {
                await body.WriteAsync(buffer.WrittenMemory, cancellationToken);
                await body.FlushAsync(cancellationToken);
                buffer.ResetWrittenCount();
            }
            if (page.Count < pageSize)
            {
                return;
            }
            after = page[^1].Record.Sequence;
        }
    }
}

/// <summary>One line of an export: the fields of a query item, plus what the chain MAC needs.</summary>
internal sealed record AuditExportLine(long Sequence, DateTimeOffset At, string Action, string Outcome, string? Actor, string? UserId,
    string? WorkspaceId, string? CredentialId, string? LeaseId, string? RemoteAddress, string? Detail, int KeyVersion, byte[] Mac)
{
    public static AuditExportLine From(AuditRecord r, byte[] mac) =>
        new(r.Sequence, r.At, r.Action, r.Outcome, r.Actor, r.UserId, r.WorkspaceId, r.CredentialId, r.LeaseId, r.RemoteAddress, r.Detail, r.KeyVersion, mac);
}
