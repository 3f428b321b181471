using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.RateLimiting;

/// <summary>
/// Audits failed authentications in aggregate so a flood cannot stall the audit log: per client
/// and surface, the first failure of a window is written at once, and the rest become ONE
/// summary record when the window ends (or at shutdown). Metrics still count every failure.
/// </summary>
internal sealed class AuthFailureAudit(WriteQueue writes, AuditChain audit, BrokerOptions options, TimeProvider time, int maxClients = 10_000) : BackgroundService
{
    // Past maxClients clients in one window, newcomers share one window: memory stays bounded.
    private const string Overflow = "(many clients)";

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Actor, string Client), Window> _windows = [];
    private bool _stopped;

    /// <summary>Audits a failure now if it opens its client's window; otherwise only counts it.</summary>
    public Task RecordAsync(string actor, string? remoteAddress, string detail)
    {
        var now = time.GetUtcNow();
        var entries = new List<AuditEntry>(2);
        lock (_lock)
        {
            var client = remoteAddress ?? "";
            if (!_windows.ContainsKey((actor, client)) && _windows.Count >= maxClients)
            {
                client = Overflow;
            }
            // After the final flush (the server may still be draining), every failure is written as it comes.
            _windows.TryGetValue((actor, client), out var window);
            if (!_stopped && window is not null && now < window.Ends)
            {
                window.Suppressed++;
                return Task.CompletedTask;
            }
            if (window is not null && Summary(actor, client, window) is { } summary)
            {
                entries.Add(summary);
            }
            if (!_stopped)
            {
                _windows[(actor, client)] = new Window(now + options.AuthFailureAuditWindow);
            }
            entries.Add(new AuditEntry(AuditActions.AuthFailure, AuditOutcomes.Denied)
            {
                Actor = actor, RemoteAddress = client == Overflow ? null : remoteAddress, Detail = detail,
            });
        }
        return WriteAsync(entries);
    }

    /// <summary>Writes the summaries of windows that have ended (all of them with <paramref name="all"/>) and forgets them.</summary>
    public Task FlushAsync(bool all = false)
    {
        var now = time.GetUtcNow();
        var entries = new List<AuditEntry>();
        lock (_lock)
        {
            foreach (var ((actor, client), window) in _windows.Where(w => all || now >= w.Value.Ends).ToList())
            {
                _windows.Remove((actor, client));
                if (Summary(actor, client, window) is { } summary)
                {
                    entries.Add(summary);
                }
            }
        }
        return WriteAsync(entries);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5), time);
        try
        {
            while (await timer.NextAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: StopAsync writes what is still open.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        lock (_lock)
        {
            _stopped = true;
        }
        await FlushAsync(all: true);
    }

    private AuditEntry? Summary(string actor, string client, Window window) => window.Suppressed == 0 ? null
        : new AuditEntry(AuditActions.AuthFailure, AuditOutcomes.Denied)
        {
            Actor = actor,
            RemoteAddress = client is Overflow or "" ? null : client,
            Detail = $"{window.Suppressed} more failures{(client == Overflow ? " from clients past the tracking limit" : "")} within {options.AuthFailureAuditWindow.TotalSeconds:0} s of the first",
        };

    private Task WriteAsync(List<AuditEntry> entries) => entries.Count == 0 ? Task.CompletedTask
        : writes.ExecuteAsync((c, t) => entries.ForEach(e => audit.Append(c, t, e)));

    private sealed class Window(DateTimeOffset ends)
    {
        public DateTimeOffset Ends { get; } = ends;
        public int Suppressed { get; set; }
    }
}
