using Docker.DotNet;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.Docker;

internal static class DockerWatcherRegistration
{
    public const string LeaseName = "docker-watcher";
    private static readonly TimeSpan LeaseLifetime = TimeSpan.FromSeconds(15);

    /// <summary>
    /// One watcher per `--docker` engine, each with its own client (a keyed <see cref="IDockerClient"/>,
    /// keyed by engine name), bootstrapper and leader lease; nothing without engines.
    /// </summary>
    public static IServiceCollection AddDockerWatcher(this IServiceCollection services, BrokerOptions options)
    {
        if (options.DockerEngines.Count == 0)
        {
            return services;
        }
        // Read now, so a bad key file is a start-up error rather than a watcher that fails later.
        services.AddSingleton(WorkspaceClaims.FromKeyFile(options.DockerClaimKeyFile));
        services.AddSingleton<ContainerBinding>();
        foreach (var engine in options.DockerEngines)
        {
            services.AddKeyedSingleton<IDockerClient>(engine.Name, (_, _) => DockerClients.Create(engine));
            // Not AddHostedService: it keeps one registration per implementation type, so only the first engine would be watched.
            services.AddSingleton<IHostedService>(sp =>
            {
                var docker = sp.GetRequiredKeyedService<IDockerClient>(engine.Name);
                var bootstrapper = ActivatorUtilities.CreateInstance<ContainerBootstrapper>(sp, docker, engine, new BootstrapDelivery(docker));
                return ActivatorUtilities.CreateInstance<DockerWatcher>(sp, docker, engine, bootstrapper,
                    LeaderLease.For(sp, LeaseNameOf(engine.Name), LeaseLifetime));
            });
        }
        return services;
    }

    /// <summary>
    /// The election key of an engine's watcher. The default engine keeps the single-engine name, so a
    /// replica from before several engines and one after it never both lead that engine during an upgrade.
    /// </summary>
    public static string LeaseNameOf(string engine) => engine == DockerEndpoint.DefaultName ? LeaseName : $"{LeaseName}:{engine}";
}
