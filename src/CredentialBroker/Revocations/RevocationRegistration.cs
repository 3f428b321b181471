namespace Xares.Broker.Revocations;

internal static class RevocationRegistration
{
    /// <summary>Sidecars' revocation streams: one log reader per process, fanning out to every stream.</summary>
    public static IServiceCollection AddRevocationStreams(this IServiceCollection services)
    {
        services.AddSingleton<RevocationHub>().AddSingleton<RevocationLogReads>().AddSingleton<RevocationDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<RevocationDispatcher>());
        return services.AddSingleton<RevocationWatcher>().AddSingleton<RevocationStreamSlots>();
    }
}
