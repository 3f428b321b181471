using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Xares.Broker.Audit.Devices;

/// <summary>
/// The audit devices of this broker process (`--audit-device`). Required devices
/// (`--audit-device-required`) take each batch's records on the writer, after the records are
/// chained and just before the COMMIT: if one cannot, the batch rolls back and its writes fail, so
/// the database never holds a record a required device missed. Optional devices get the records
/// after the commit, through a <see cref="AuditDeviceForwarder"/>.
/// </summary>
internal sealed class AuditDevices : IAsyncDisposable
{
    private readonly AuditDevice[] _required;
    private readonly AuditDeviceForwarder[] _optional;
    private readonly JsonTypeInfo<AuditExportLine> _lineType;

    // The running batch's records for the required devices (the write queue's thread only).
    private readonly List<AuditDeviceLine> _staged = [];

    public AuditDevices(AuditSettings settings, IOptions<JsonOptions> json, TimeProvider time, ILogger<AuditDevices> logger)
    {
        var devices = settings.Devices.Select(address => AuditDevice.Create(address, time, logger)).ToArray();
        _required = settings.DevicesRequired ? devices : [];
        _optional = settings.DevicesRequired ? [] : [.. devices.Select(d => new AuditDeviceForwarder(d, logger))];
        // The REST export's options: the same field names and encoding, line for line.
        _lineType = (JsonTypeInfo<AuditExportLine>)json.Value.SerializerOptions.GetTypeInfo(typeof(AuditExportLine));
    }

    /// <summary>Hands records just chained in a write unit to the devices, before (required) or after (optional) the commit.</summary>
    public void Chained(IReadOnlyList<AuditRecord> records, IReadOnlyList<byte[]> macs)
    {
        if (_required.Length == 0 && _optional.Length == 0)
        {
            return;
        }
        var lines = records.Select((record, i) => Line(record with { At = Stored(record.At) }, macs[i])).ToArray();
        if (_required.Length > 0)
        {
            Storage.WriteQueue.BeforeCommit(() => _staged.AddRange(lines));
        }
        foreach (var forwarder in _optional)
        {
            Storage.WriteQueue.AfterCommit(() => forwarder.Post(lines));
        }
    }

    private AuditDeviceLine Line(AuditRecord record, byte[] mac) =>
        new(record.Sequence, record.At, record.Outcome, JsonSerializer.Serialize(AuditExportLine.From(record, mac), _lineType));

    // The database keeps (and the MAC covers) whole milliseconds: a device line reads as the export's.
    private static DateTimeOffset Stored(DateTimeOffset at) => DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());

    /// <summary>
    /// The write queue's last step before a COMMIT: every required device takes the batch's records
    /// in sequence order, or <see cref="AuditDeviceUnavailableException"/> rolls the batch back.
    /// </summary>
    public void WriteRequired()
    {
        if (_staged.Count == 0)
        {
            return;
        }
        try
        {
            _staged.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
            // The device that failed last goes first: while it is down (refusing at once, or failing
            // again), the others are not handed records that will not commit.
            foreach (var device in _required.OrderByDescending(d => d.LastFailure))
            {
                device.Write(_staged);
            }
        }
        catch (IOException ex)
        {
            throw new AuditDeviceUnavailableException(ex);
        }
        finally
        {
            _staged.Clear();
        }
    }

    /// <summary>SIGHUP: every device closes its file or socket and opens it again at its next write.</summary>
    public void Reopen()
    {
        foreach (var device in _required.Concat(_optional.Select(f => f.Device)))
        {
            device.Reopen();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var forwarder in _optional)
        {
            await forwarder.DisposeAsync();
        }
        foreach (var device in _required)
        {
            device.Dispose();
        }
    }
}
