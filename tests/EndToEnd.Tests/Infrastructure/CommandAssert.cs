namespace Xares.EndToEnd.Tests.Infrastructure;

internal static class CommandAssert
{
    public static async Task<CommandResult> ShouldSucceedAsync(this Task<CommandResult> command)
    {
        var result = await command;
        Assert.True(result.Succeeded, "Expected success:\n" + result);
        return result;
    }

    public static async Task<CommandResult> ShouldFailAsync(this Task<CommandResult> command)
    {
        var result = await command;
        Assert.False(result.Succeeded, "Expected failure:\n" + result);
        Assert.False(result.TimedOut, "Expected a failure, not a hang:\n" + result);
        return result;
    }
}
