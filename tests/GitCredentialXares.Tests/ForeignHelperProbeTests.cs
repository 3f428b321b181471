namespace Xares.GitHelper.Tests;

public sealed class ForeignHelperProbeTests
{
    [Theory]
    [InlineData("store", "store")]
    [InlineData("store --file /home/u/.secret-store", "store")]
    [InlineData("cache --timeout=3600", "cache")]
    [InlineData("/usr/lib/git-core/git-credential-libsecret", "git-credential-libsecret")]
    [InlineData("!f() { echo password=hunter2; }; f", "!f()")]
    [InlineData("!'/opt/tools/helper.sh' get", "!helper.sh")]
    public void CommandName_HelperValue_KeepsNoArguments(string value, string expected)
    {
        Assert.Equal(expected, ForeignHelperProbe.CommandName(value));
    }
}
