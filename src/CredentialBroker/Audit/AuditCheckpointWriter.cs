using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.Audit;

/// <summary>
/// Writes the chain's end (sequence, MAC, time, key version, line MAC) to the checkpoint file on a
/// schedule and at shutdown, when it moved since the last line. Every replica writes its own file;
/// each is a complete witness, since they all checkpoint the one chain.
/// </summary>
internal sealed class AuditCheckpointWriter(Database database, Keyring keyring, BrokerOptions options, TimeProvider time,
    ILogger<AuditCheckpointWriter> logger) : BackgroundService
{
    private readonly string _path = options.Audit.CheckpointPath(options.DataDirectory);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _written;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Audit.CheckpointInterval <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.Audit.CheckpointInterval, time);
        try
        {
            while (await timer.NextAsync(stoppingToken))
            {
                await TryWriteAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync writes the last checkpoint.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (options.Audit.CheckpointInterval > TimeSpan.Zero)
        {
            await TryWriteAsync();
        }
    }

    /// <summary>Checkpoints the chain's end if it moved; the checkpoint written, or null.</summary>
    public async Task<AuditCheckpoint?> WriteAsync()
    {
        await _gate.WaitAsync();
        try
        {
            var head = await database.ReadAsync(c => Sql.Single(c, null, "SELECT seq, mac, key_version, anchor FROM audit_head WHERE id = 1",
                r => new Tuple<long, byte[], int, byte[]>(r.GetInt64(0), (byte[])r["mac"], r.GetInt32(2), (byte[])r["anchor"])));
            if (head is null || head.Item1 == _written)
            {
                return null;
            }
            var (sequence, mac, keyVersion, anchor) = head;
            // Never vouch for a head someone edited: verification reports that; the file stays true.
            if (!AuditMacs.Matches(anchor, () => AuditMacs.Head(keyring, keyVersion, sequence, mac)))
            {
                AuditLog.CheckpointSkipped(logger, sequence);
                return null;
            }
            var at = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
            var version = keyring.CurrentVersion;
            var checkpoint = new AuditCheckpoint(sequence, mac, at, version, AuditMacs.Checkpoint(keyring, version, sequence, at, mac));
            AuditCheckpointFile.Append(_path, checkpoint);
            _written = sequence;
            return checkpoint;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task TryWriteAsync()
    {
        try
        {
            await WriteAsync();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or StorageUnavailableException or System.Data.Common.DbException)
        {
            AuditLog.CheckpointFailed(logger, _path, ex);
        }
    }
}
