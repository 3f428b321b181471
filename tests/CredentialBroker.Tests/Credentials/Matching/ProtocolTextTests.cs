using Xares.Broker.Credentials.Matching;
using Xares.GitTargets;

namespace Xares.Broker.Tests.Credentials.Matching;

public sealed class ProtocolTextTests
{
    [Theory]
    [InlineData("ghp_abc123")]
    [InlineData("")]
    [InlineData("x-access-token")]
    [InlineData("with space and\ttab")]
    [InlineData("ünïcødé")]
    public void IsSafe_PlainText_True(string value) => Assert.True(ProtocolText.IsSafe(value));

    [Theory]
    [InlineData(null)]
    [InlineData("token\n")]
    [InlineData("token\r")]
    [InlineData("tok\0en")]
    [InlineData("alice\nhost=evil.example")]
    [InlineData("\r\n")]
    public void IsSafe_NullOrLineBreakOrNul_False(string? value) => Assert.False(ProtocolText.IsSafe(value));
}
