using Microsoft.Extensions.Logging.Abstractions;
using Xares.Broker.Audit.Devices;
using Xares.DevKit;

namespace Xares.Broker.Tests.Audit.Devices;

/// <summary>The syslog device against real receivers: a Unix datagram socket, a Unix stream socket and a TCP port.</summary>
public sealed class SyslogDeviceTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("xares-syslog-").FullName;

    private static AuditDeviceLine Line(long sequence, string detail = "") =>
        new(sequence, DateTimeOffset.UtcNow, "success", $$"""{"sequence":{{sequence}},"detail":"{{detail}}"}""");

    private static AuditDevice Device(string address) => AuditDevice.Create(AuditDeviceAddress.Parse(address), TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task UnixDatagram_OneMessagePerRecord()
    {
        var path = Path.Combine(_directory, "log");
        await using var receiver = SyslogReceiver.UnixDatagram(path);
        using var device = Device("syslog+unix://" + path);

        device.Write([Line(1), Line(2)]);

        var messages = await receiver.WaitForAsync(2, Patience);
        Assert.Equal(2, messages.Count);
        Assert.StartsWith("<110>1 ", messages[0], StringComparison.Ordinal);
        Assert.EndsWith("""{"sequence":1,"detail":""}""", messages[0], StringComparison.Ordinal);
        Assert.EndsWith("""{"sequence":2,"detail":""}""", messages[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnixStream_OctetCountedFrames()
    {
        var path = Path.Combine(_directory, "log.stream");
        await using var receiver = SyslogReceiver.UnixStream(path);
        using var device = Device("syslog+unix://" + path);

        device.Write([Line(1, "with spaces and ünïcode"), Line(2)]);

        var messages = await receiver.WaitForAsync(2, Patience);
        Assert.EndsWith("""{"sequence":1,"detail":"with spaces and ünïcode"}""", messages[0], StringComparison.Ordinal);
        Assert.EndsWith("""{"sequence":2,"detail":""}""", messages[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tcp_ReceiverRestarted_ReconnectsAfterTheBackoff()
    {
        var receiver = SyslogReceiver.Tcp();
        var port = receiver.Port;
        using var device = Device($"syslog+tcp://127.0.0.1:{port}");
        device.Write([Line(1)]);
        Assert.Single(await receiver.WaitForAsync(1, Patience));

        await receiver.DisposeAsync();
        // The closed connection is noticed before writing; nothing listens, so the write fails.
        Assert.Throws<IOException>(() => device.Write([Line(2)]));

        await using var restarted = SyslogReceiver.Tcp(port);
        await Task.Delay(AuditDevice.Backoff + TimeSpan.FromMilliseconds(200));
        device.Write([Line(2), Line(3)]);
        var messages = await restarted.WaitForAsync(2, Patience);
        Assert.EndsWith("""{"sequence":2,"detail":""}""", messages[0], StringComparison.Ordinal);
        Assert.EndsWith("""{"sequence":3,"detail":""}""", messages[1], StringComparison.Ordinal);
    }

    [Fact]
    public void UnixSocket_NobodyListening_Throws()
    {
        using var device = Device("syslog+unix://" + Path.Combine(_directory, "absent"));

        Assert.Throws<IOException>(() => device.Write([Line(1)]));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
