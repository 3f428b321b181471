using Docker.DotNet;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.Docker;

internal static class DockerWatcherRegistration
{
    public const string LeaseName = "docker-watcher";
    private static readonly TimeSpan LeaseLifetime = TimeSpan.FromSeconds(15);

    /// <summary>The Docker watcher, when `--docker URL` / XARES_DOCKER is set; nothing otherwise.</summary>
    public static IServiceCollection AddDockerWatcher(this IServiceCollection services, BrokerOptions options)
    {
        if (options.Docker is not { Length: > 0 } endpoint)
        {
            return services;
        }
        services.AddSingleton<IDockerClient>(_ => new DockerClientConfiguration(new Uri(endpoint)).CreateClient());
        // Read now, so a bad key file is a start-up error rather than a watcher that fails later.
        services.AddSingleton(WorkspaceClaims.FromKeyFile(options.DockerClaimKeyFile));
        services.AddSingleton<ContainerBinding>();
        services.AddSingleton<BootstrapDelivery>();
        services.AddSingleton<ContainerBootstrapper>();
        services.AddSingleton(sp => LeaderLease.For(sp, LeaseName, LeaseLifetime));
        services.AddHostedService(sp => ActivatorUtilities.CreateInstance<DockerWatcher>(sp, endpoint));
        return services;
    }
}
