using Microsoft.Extensions.Logging.Abstractions;
using Xares.Broker.Audit.Devices;

namespace Xares.Broker.Tests.Audit.Devices;

public sealed class AuditFileDeviceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("xares-audit-file-").FullName;

    private static AuditDeviceLine Line(long sequence) => new(sequence, DateTimeOffset.UtcNow, "success", $$"""{"sequence":{{sequence}}}""");

    private AuditDevice Device(string name = "audit.jsonl") =>
        AuditDevice.Create(AuditDeviceAddress.Parse("file:" + Path.Combine(_directory, name)), TimeProvider.System, NullLogger.Instance);

    [Fact]
    public void Write_NewFile_OneLinePerRecordMode0600()
    {
        using var device = Device();

        device.Write([Line(1), Line(2)]);
        device.Write([Line(3)]);

        var path = Path.Combine(_directory, "audit.jsonl");
        Assert.Equal(["""{"sequence":1}""", """{"sequence":2}""", """{"sequence":3}"""], File.ReadAllLines(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Reopen_AfterRotation_WritesToTheNewFile()
    {
        using var device = Device();
        var path = Path.Combine(_directory, "audit.jsonl");
        device.Write([Line(1)]);

        File.Move(path, path + ".1"); // logrotate's rename
        device.Write([Line(2)]); // still the open, moved file
        device.Reopen(); // SIGHUP
        device.Write([Line(3)]);

        Assert.Equal(["""{"sequence":1}""", """{"sequence":2}"""], File.ReadAllLines(path + ".1"));
        Assert.Equal(["""{"sequence":3}"""], File.ReadAllLines(path));
    }

    [Fact]
    public void Write_AfterATornLine_StartsOnANewLine()
    {
        var path = Path.Combine(_directory, "audit.jsonl");
        File.WriteAllText(path, """{"sequence":1}""" + "\n" + """{"seque""");
        using var device = Device();

        device.Write([Line(2)]);

        Assert.Equal(["""{"sequence":1}""", """{"seque""", """{"sequence":2}"""], File.ReadAllLines(path));
    }

    [Fact]
    public void Write_Unwritable_ThrowsThenRefusesUntilTheBackoffPassed()
    {
        using var device = Device(Path.Combine("missing", "audit.jsonl"));

        Assert.Throws<IOException>(() => device.Write([Line(1)]));
        Directory.CreateDirectory(Path.Combine(_directory, "missing"));
        var refused = Assert.Throws<IOException>(() => device.Write([Line(1)]));
        Assert.Contains("failed less than", refused.Message, StringComparison.Ordinal);

        device.Reopen(); // also forgets the backoff
        device.Write([Line(1)]);
        Assert.Single(File.ReadAllLines(Path.Combine(_directory, "missing", "audit.jsonl")));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
