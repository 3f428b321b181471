using System.Text;
using Xares.Broker.Audit;
using Xares.Broker.Audit.Devices;

namespace Xares.Broker.Tests.Audit.Devices;

public sealed class SyslogMessageTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 4, 5, 6, 789, TimeSpan.FromHours(2));

    [Fact]
    public void Format_Success_Rfc5424HeaderWithLogAuditInformational()
    {
        var text = Encoding.UTF8.GetString(SyslogMessage.Format(At, AuditOutcomes.Success, """{"sequence":1}"""));

        var parts = text.Split(' ', 8);
        Assert.Equal("<110>1", parts[0]); // facility 13 (log audit) * 8 + informational 6, version 1
        Assert.Equal("2026-12-07T02:05:06.789Z", parts[1]);
        Assert.DoesNotContain(' ', parts[2]);
        Assert.Equal(["xares-broker", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), "audit", "-"], parts[3..7]);
        Assert.Equal("""{"sequence":1}""", parts[7]);
    }

    [Theory]
    [InlineData(AuditOutcomes.Denied)]
    [InlineData(AuditOutcomes.Failure)]
    public void Format_DeniedOrFailed_Notice(string outcome) =>
        Assert.StartsWith("<109>1 ", Encoding.UTF8.GetString(SyslogMessage.Format(At, outcome, "{}")), StringComparison.Ordinal);

    [Fact]
    public void Frame_CountsBytesNotCharacters()
    {
        var message = Encoding.UTF8.GetBytes("<110>1 - - - - - - {\"detail\":\"naïve ✓\"}");

        var frame = SyslogMessage.Frame(message);

        var prefix = $"{message.Length} ";
        Assert.Equal(prefix, Encoding.ASCII.GetString(frame, 0, prefix.Length));
        Assert.Equal(message, frame[prefix.Length..]);
        Assert.NotEqual(Encoding.UTF8.GetString(message).Length, message.Length);
    }
}
