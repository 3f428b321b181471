namespace Xares.Broker.Tests.Support;

/// <summary>Base of the test classes that each start an in-process broker with one user, alice.</summary>
public abstract class BrokerWithAliceTests : IAsyncLifetime
{
    private protected BrokerTestHost Host { get; private set; } = null!;

    /// <summary>alice's user id.</summary>
    private protected string Alice { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await BrokerTestHost.StartAsync();
        Alice = await Host.CreateUserAsync("alice");
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
