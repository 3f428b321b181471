using OpenTelemetry.Exporter;
using Xares.Broker.Audit.Devices;
using Xares.Broker.Hosting;

namespace Xares.Broker.Tests.Hosting;

/// <summary>--audit-device, --audit-device-required, --otlp-endpoint and --otlp-protocol as flags, variables and settings-file entries.</summary>
public sealed class TelemetryOptionsTests
{
    [Fact]
    public void AuditDevices_RepeatedFlags_AllRequired()
    {
        var options = Read("--audit-device", "file:/var/log/xares/audit.jsonl", "--audit-device", "syslog+tcp://siem:601", "--audit-device-required");

        Assert.Equal(["file:/var/log/xares/audit.jsonl", "syslog+tcp://siem:601"], options.Audit.Devices.Select(d => d.Name));
        Assert.True(options.Audit.DevicesRequired);
    }

    [Fact]
    public void AuditDevices_SettingsFileList_Read()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{ "audit-device": ["syslog+unix:///dev/log", "file:/srv/audit.jsonl"], "audit-device-required": true }""");

            var options = Read("--config", file);

            Assert.Equal([AuditDeviceKind.SyslogUnix, AuditDeviceKind.File], options.Audit.Devices.Select(d => d.Kind));
            Assert.True(options.Audit.DevicesRequired);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AuditDevices_BadAddressAndRequiredWithoutDevice_EveryErrorNamed()
    {
        var error = Assert.Throws<SettingsException>(() => Read("--audit-device", "syslog+udp://siem:514", "--otlp-protocol", "thrift"));
        Assert.Contains("'syslog+udp://siem:514' is not an audit device", error.Message, StringComparison.Ordinal);
        Assert.Contains("--otlp-protocol", error.Message, StringComparison.Ordinal);

        var required = Assert.Throws<SettingsException>(() => Read("--audit-device-required"));
        Assert.Contains("needs at least one --audit-device", required.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Otlp_Unset_TracingOff()
    {
        Assert.Null(Read().OtlpEndpoint);
    }

    [Fact]
    public void Otlp_EndpointWithPassword_RefusedWithoutEchoingIt()
    {
        var error = Assert.Throws<SettingsException>(() => Read("--otlp-endpoint", "http://user:hunter2@collector:4318"));

        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://collector:4318", "http/protobuf", "http://collector:4318/v1/traces")]
    [InlineData("http://collector:4318/custom/traces", "http/protobuf", "http://collector:4318/custom/traces")]
    [InlineData("http://collector:4317", "grpc", "http://collector:4317/")]
    public void Otlp_Endpoint_TracesUrl(string endpoint, string protocol, string traces)
    {
        var options = Read("--otlp-endpoint", endpoint, "--otlp-protocol", protocol);

        Assert.Equal(protocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf, options.OtlpProtocol);
        Assert.Equal(traces, BrokerTracing.TracesEndpoint(options.OtlpEndpoint!, options.OtlpProtocol).ToString());
    }

    private static BrokerOptions Read(params string[] args) => BrokerCommandLine.Read(BrokerCommandLine.Create().Parse(args));
}
