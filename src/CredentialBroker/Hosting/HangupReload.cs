using System.Runtime.InteropServices;

namespace Xares.Broker.Hosting;

/// <summary>
/// SIGHUP reads the settings again (flags, XARES_* variables and the settings file) and applies
/// what can change without a restart: log levels and the TLS certificate; audit device files and
/// sockets are reopened (for logrotate). Listeners, sessions and
/// sidecar streams stay up. A reload that finds a bad setting or an unreadable certificate changes
/// nothing and says why. Without this handler SIGHUP would end the process.
/// </summary>
internal sealed partial class HangupReload(BrokerOptions options, LogLevelSwitches logLevels, TlsCertificate certificate,
    Audit.Devices.AuditDevices auditDevices, ILogger<HangupReload> logger)
    : IHostedService, IDisposable
{
    private PosixSignalRegistration? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Reload();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => Interlocked.Exchange(ref _registration, null)?.Dispose();

    public void Reload()
    {
        // Whatever else the reload finds, a rotated audit file is written under its path again.
        auditDevices.Reopen();
        BrokerOptions fresh;
        try
        {
            fresh = options.Reread?.Invoke() ?? options;
            if (certificate.Loaded)
            {
                certificate.Load(fresh.TlsCertificateFile, fresh.TlsKeyFile, "The https listener");
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            LogRefused(logger, e.Message);
            return;
        }
        var needRestart = logLevels.Update(fresh.Logging);
        LogReloaded(logger, fresh.Logging.Level.ToString(), fresh.Logging.Categories.Count, certificate.Describe());
        if (needRestart.Count > 0)
        {
            LogCategoriesNeedRestart(logger, string.Join(", ", needRestart));
        }
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "SIGHUP: reload refused, nothing changed: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning,
        Message = "SIGHUP: settings reloaded: log level {Level}, {Categories} category levels, TLS certificate {Certificate}; other settings change at the next start")]
    private static partial void LogReloaded(ILogger logger, string level, int categories, string certificate);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "SIGHUP: log categories {Categories} were not set at start; their levels apply after a restart")]
    private static partial void LogCategoriesNeedRestart(ILogger logger, string categories);
}
