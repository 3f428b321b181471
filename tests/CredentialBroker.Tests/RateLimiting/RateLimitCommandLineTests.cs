using Xares.Broker.Hosting;
using Xares.Broker.RateLimiting;

namespace Xares.Broker.Tests.RateLimiting;

public sealed class RateLimitCommandLineTests
{
    [Fact]
    public void Read_Options_OverrideDefaults()
    {
        var options = Read("serve", "--trusted-proxy", "10.0.0.0/8,192.168.1.5", "--trusted-proxy", "::1", "--auth-failure-limit", "3",
            "--auth-failure-address-limit", "7", "--auth-failure-window-seconds", "30", "--session-rate", "500", "--session-burst", "900",
            "--connect-concurrency", "64", "--connect-rate", "0");

        Assert.Equal(["10.0.0.0/8", "192.168.1.5", "::1"], options.TrustedProxies);
        Assert.Equal(3, options.AuthFailureLimit);
        Assert.Equal(7, options.AuthFailureAddressLimit);
        Assert.Equal(TimeSpan.FromSeconds(30), options.AuthFailureWindow);
        Assert.Equal(500, options.SessionRate);
        Assert.Equal(900, options.SessionBurst);
        Assert.Equal(64, options.ConnectConcurrency);
        Assert.Equal(0, options.ConnectRate);
    }

    [Fact]
    public void Read_NothingGiven_KeepsDefaults()
    {
        var options = Read("serve");

        Assert.Empty(options.TrustedProxies);
        Assert.Equal(new BrokerOptions().SessionRate, options.SessionRate);
        Assert.Equal(new BrokerOptions().AuthFailureLimit, options.AuthFailureLimit);
        Assert.Equal(new BrokerOptions().ConnectConcurrency, options.ConnectConcurrency);
        Assert.Equal(new BrokerOptions().ConnectRate, options.ConnectRate);
    }

    [Fact]
    public void Read_EnvironmentVariables_UsedWhenNoOptionGiven()
    {
        // Valid values only: other tests read the environment through the same command line at the same time.
        Environment.SetEnvironmentVariable("XARES_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.0/24");
        Environment.SetEnvironmentVariable("XARES_SESSION_RATE", "42");
        Environment.SetEnvironmentVariable("XARES_CONNECT_RATE", "3000");
        try
        {
            var options = Read("serve");
            Assert.Equal(["10.0.0.1", "10.0.0.0/24"], options.TrustedProxies);
            Assert.Equal(42, options.SessionRate);
            Assert.Equal(7, Read("serve", "--session-rate", "7").SessionRate);
            Assert.Equal(3000, options.ConnectRate);
        }
        finally
        {
            Environment.SetEnvironmentVariable("XARES_TRUSTED_PROXIES", null);
            Environment.SetEnvironmentVariable("XARES_SESSION_RATE", null);
            Environment.SetEnvironmentVariable("XARES_CONNECT_RATE", null);
        }
    }

    [Theory]
    [InlineData("--trusted-proxy", "lb.example.test")]
    [InlineData("--trusted-proxy", "10.0.0.0/99")]
    [InlineData("--auth-failure-limit", "0")]
    [InlineData("--session-rate", "-1")]
    [InlineData("--connect-concurrency", "0")]
    [InlineData("--connect-rate", "-1")]
    public void Read_BadValue_ClearStartupError(string option, string value)
    {
        var error = Assert.Throws<SettingsException>(() => Read("serve", option, value));

        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_IpsAndCidrs_SplitIntoProxiesAndNetworks()
    {
        var (proxies, networks) = TrustedProxies.Parse(["127.0.0.1", " 10.0.0.0/8 ", "fd00::/8", ""]);

        Assert.Equal(["127.0.0.1"], proxies.Select(p => p.ToString()));
        Assert.Equal(["10.0.0.0/8", "fd00::/8"], networks.Select(n => n.ToString()));
    }

    [Fact]
    public void ClientKey_MappedIPv4_FoldedToIPv4()
    {
        Assert.Equal("10.1.2.3", TrustedProxies.ClientKey(System.Net.IPAddress.Parse("::ffff:10.1.2.3")));
        Assert.Equal("unknown", TrustedProxies.ClientKey(null));
    }

    private static BrokerOptions Read(params string[] args)
    {
        var parse = BrokerCommandLine.Create().Parse(args);
        var options = RateLimitCommandLine.Read(parse, new BrokerOptions());
        SettingsFile.For(parse).ThrowIfErrors();
        return options;
    }
}
