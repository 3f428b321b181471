using Xares.Broker.ApiKeys;
using Xares.Broker.Audit;
using Xares.Broker.Storage;

namespace Xares.Broker.Hosting;

/// <summary>
/// On first start with an empty database, mints an admin API key (expiring after 24 h by default)
/// and writes it to &lt;data-dir&gt;/initial-admin-key with mode 0600 — never to a log. Only once
/// the host has started (listeners bound): a start that fails mints nothing, so the next one writes the file.
/// </summary>
internal sealed partial class InitialAdminKey(BrokerOptions options, Database database, WriteQueue writes, AuditChain audit, TimeProvider time,
    ILogger<InitialAdminKey> logger) : IHostedLifecycleService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // After every hosted service's StartAsync, the server's (which binds the listeners) included.
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (await database.ReadAsync(c => ApiKeyStore.Any(c)))
        {
            return;
        }
        var now = time.GetUtcNow();
        var expires = now + options.InitialAdminKeyLifetime;
        var token = await writes.ExecuteAsync((c, t) =>
        {
            // Re-checked inside the write transaction, so two racing starts mint one key.
            if (ApiKeyStore.Any(c, t))
            {
                return null;
            }
            var (record, secret) = ApiKeyStore.Insert(c, t, "initial-admin", [ApiKeyScopes.Admin], null, now, expires);
            audit.Append(c, t, new AuditEntry(AuditActions.ApiKeyCreate, AuditOutcomes.Success) { Actor = "system", Detail = $"initial admin key {record.Id}" });
            return secret;
        });
        if (token is null)
        {
            return;
        }
        DatabaseFiles.CreateDirectory(options.DataDirectory);
        var path = options.InitialAdminKeyPath;
        File.Delete(path);
        await using (var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        await using (var writer = new StreamWriter(stream))
        {
            await writer.WriteLineAsync(token);
        }
        LogWritten(logger, path, expires);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 100, Level = LogLevel.Warning,
        Message = "First start: an admin API key was written to {Path} (mode 0600), valid until {ExpiresAt}. Create lasting keys and delete the file.")]
    private static partial void LogWritten(ILogger logger, string path, DateTimeOffset expiresAt);
}
