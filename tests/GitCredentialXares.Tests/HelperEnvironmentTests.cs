namespace Xares.GitHelper.Tests;

public sealed class HelperEnvironmentTests
{
    [Theory]
    [InlineData(null, "/run/xares/sidecar.sock")]
    [InlineData("", "/run/xares/sidecar.sock")]
    [InlineData("/tmp/x/s.sock", "/tmp/x/s.sock")]
    public void SocketPath_Configured_UsesItOrDefault(string? configured, string expected) =>
        Assert.Equal(expected, HelperEnvironment.SocketPath(configured));

    [Theory]
    [InlineData(null, 2000)]
    [InlineData("", 2000)]
    [InlineData("1", 1)]
    [InlineData("750", 750)]
    [InlineData("600000", 600000)]
    public void TryParseTimeout_ValidValue_Accepts(string? configured, int expectedMilliseconds)
    {
        Assert.True(HelperEnvironment.TryParseTimeout(configured, out var timeout));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), timeout);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData("1.5")]
    [InlineData(" 10")]
    [InlineData("2s")]
    [InlineData("600001")]
    [InlineData("99999999999")]
    public void TryParseTimeout_InvalidValue_Refuses(string configured) =>
        Assert.False(HelperEnvironment.TryParseTimeout(configured, out _));
}
