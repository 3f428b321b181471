using Xares.Broker.Revocations;

namespace Xares.Broker.Sidecars;

internal static class SidecarBrokerRegistration
{
    public static IServiceCollection AddSidecarBroker(this IServiceCollection services) => services.AddRevocationStreams();
}
