using System.Data.Common;
using Npgsql;
using Xares.Broker.Storage;

namespace Xares.Broker.Revocations;

/// <summary>
/// Carries revocations between broker replicas on PostgreSQL: a replica that commits one sends
/// NOTIFY (delivered at commit), and every replica LISTENs and pulses its <see cref="RevocationSignal"/>,
/// so sidecars on any replica hear it at once. Only a wake-up: the durable log and the dispatcher's
/// safety poll stay authoritative, so a notification lost while this reconnects (or behind a
/// pooler that drops LISTEN) delays nothing beyond that poll. Each (re)connect pulses once, too.
/// </summary>
internal sealed partial class RevocationListener(Database database, RevocationSignal signal, ILogger<RevocationListener> logger) : BackgroundService
{
    public const string Channel = "xares_revocations";
    /// <summary>The listener's application_name, so operators (and tests) can find its backend.</summary>
    public const string ApplicationName = "xares-broker revocation listener";
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    public static void NotifyAtCommit(DbConnection connection, DbTransaction transaction)
    {
        if (connection is NpgsqlConnection)
        {
            Sql.Execute(connection, transaction, $"NOTIFY {Channel}");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            ApplicationName = ApplicationName,
            Pooling = false,
            KeepAlive = 10,
        }.ConnectionString;
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, _) => signal.Pulse();
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                LogListening(logger, Channel);
                delay = TimeSpan.FromMilliseconds(200);
                // Whatever was committed while we were away is read now, not at the next poll.
                signal.Pulse();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever broke the connection, keep trying: a dead listener must not stop the broker.
                LogLost(logger, ex.Message, delay);
                await Task.Delay(delay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                delay = TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, delay.TotalMilliseconds * 2));
            }
        }
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Listening for revocations from other replicas on {Channel}")]
    private static partial void LogListening(ILogger logger, string channel);

    [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Revocation listener lost its connection ({Reason}); polling covers the gap, reconnecting in {Delay}")]
    private static partial void LogLost(ILogger logger, string reason, TimeSpan delay);
}
