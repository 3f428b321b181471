using Microsoft.Extensions.Logging;

namespace Xares.Sidecar.Tests;

/// <summary>XARES_LOG_LEVEL and XARES_LOG_CATEGORY_LEVELS: the broker's level names; a typo stops the start instead of being ignored.</summary>
public sealed class SidecarLoggingTests
{
    [Theory]
    [InlineData("Trace", LogLevel.Trace)]
    [InlineData("debug", LogLevel.Debug)]
    [InlineData(null, LogLevel.Information)]
    [InlineData("Warning", LogLevel.Warning)]
    [InlineData("critical", LogLevel.Critical)]
    public void Level_BrokerNames_Accepted(string? level, LogLevel lowestEnabled)
    {
        using var loggers = SidecarLogging.Create(level);
        var logger = loggers.CreateLogger("Xares.Sidecar.Tests");

        Assert.True(logger.IsEnabled(lowestEnabled));
        Assert.False(lowestEnabled > LogLevel.Trace && logger.IsEnabled(lowestEnabled - 1));
    }

    [Fact]
    public void CategoryLevels_OverrideTheirCategoryOnly()
    {
        using var loggers = SidecarLogging.Create("Warning", "Xares.Sidecar.Revocations=Debug, Xares.Sidecar.Ai=Error");

        Assert.True(loggers.CreateLogger("Xares.Sidecar.Revocations.RevocationWatcher").IsEnabled(LogLevel.Debug));
        Assert.False(loggers.CreateLogger("Xares.Sidecar.Ai.Proxy").IsEnabled(LogLevel.Warning));
        Assert.False(loggers.CreateLogger("Xares.Sidecar.Leases").IsEnabled(LogLevel.Information));
    }

    [Theory]
    [InlineData("Loud", null, "XARES_LOG_LEVEL: 'Loud' is not a log level")]
    [InlineData(null, "Xares.Sidecar", "XARES_LOG_CATEGORY_LEVELS: 'Xares.Sidecar' is not CATEGORY=LEVEL")]
    [InlineData(null, "Xares.Sidecar=Chatty", "XARES_LOG_CATEGORY_LEVELS: 'Chatty' is not a log level")]
    public void Typo_StopsTheStartNamingIt(string? level, string? categories, string message)
    {
        var error = Assert.Throws<SidecarException>(() => SidecarLogging.Create(level, categories));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
