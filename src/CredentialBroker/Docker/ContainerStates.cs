namespace Xares.Broker.Docker;

/// <summary>workspaces.container_state values.</summary>
internal static class ContainerStates
{
    public const string Starting = "starting";
    public const string Running = "running";
    public const string Failing = "failing";
    public const string Stopped = "stopped";
}
