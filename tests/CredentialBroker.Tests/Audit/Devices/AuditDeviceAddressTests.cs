using Xares.Broker.Audit.Devices;

namespace Xares.Broker.Tests.Audit.Devices;

public sealed class AuditDeviceAddressTests
{
    [Theory]
    [InlineData("file:/var/log/xares/audit.jsonl", "File", "/var/log/xares/audit.jsonl")]
    [InlineData("file:///var/log/xares/audit.jsonl", "File", "/var/log/xares/audit.jsonl")]
    [InlineData("syslog+unix:///dev/log", "SyslogUnix", "/dev/log")]
    public void Parse_PathForms_KindAndPath(string text, string kind, string path)
    {
        var address = AuditDeviceAddress.Parse(text);

        Assert.Equal((kind, path, text), (address.Kind.ToString(), address.Path, address.Name));
    }

    [Theory]
    [InlineData("syslog+tcp://siem.internal:601", "siem.internal", 601)]
    [InlineData("syslog+tcp://[::1]:6514", "::1", 6514)]
    public void Parse_Tcp_HostAndPort(string text, string host, int port)
    {
        var address = AuditDeviceAddress.Parse(text);

        Assert.Equal((AuditDeviceKind.SyslogTcp, host, port), (address.Kind, address.Host, address.Port));
    }

    [Theory]
    [InlineData("file:audit.jsonl")]
    [InlineData("file:/var/log/")]
    [InlineData("syslog+unix://dev/log")]
    [InlineData("syslog+tcp://siem.internal")]
    [InlineData("syslog+tcp://siem.internal:601/path")]
    [InlineData("syslog+udp://siem.internal:514")]
    [InlineData("/var/log/audit.jsonl")]
    public void Parse_Unusable_RefusedNamingTheValue(string text)
    {
        var error = Assert.Throws<InvalidOperationException>(() => AuditDeviceAddress.Parse(text));

        Assert.Contains($"--audit-device '{text}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TcpWithUserInfo_RefusedWithoutEchoingIt()
    {
        var error = Assert.Throws<InvalidOperationException>(() => AuditDeviceAddress.Parse("syslog+tcp://user:hunter2@siem.internal:601"));

        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }
}
