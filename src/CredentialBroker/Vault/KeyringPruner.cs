using System.Globalization;
using Xares.Broker.Audit;
using Xares.Broker.Storage;

namespace Xares.Broker.Vault;

/// <summary>
/// `xares-broker keys prune`: deletes the key-encryption key versions nothing uses any more (no
/// credential's data key, no audit record or anchor), never the current one, and only once every
/// rotation has finished. The check and the delete share one transaction under the write lock,
/// so no broker commits a row under a version between the two.
/// </summary>
internal sealed class KeyringPruner(Database database, Keyring keyring, AuditChain audit, TimeProvider time)
{
    public const string AuditAction = "keys.prune";

    public sealed record PruneResult(IReadOnlyList<int> Pruned, IReadOnlyList<int> Kept);

    /// <exception cref="InvalidOperationException">A rotation is unfinished, or another key operation runs.</exception>
    public PruneResult Prune(string actor)
    {
        using var maintenance = KeyMaintenanceLock.Acquire(database, "keys prune", time);
        PruneResult result;
        using (var connection = database.Open())
        using (var transaction = connection.BeginTransaction())
        {
            Database.LockForWrite(connection, transaction);
            if (Keyring.UnfinishedRotation(connection, transaction) is { } unfinished)
            {
                throw new InvalidOperationException(
                    $"The rotation to key-encryption key version {unfinished} is unfinished: run `xares-broker keys rotate` to complete it, then prune.");
            }
            var versions = Sql.Query(connection, transaction, "SELECT version FROM keyring ORDER BY version", r => Convert.ToInt32(r.GetValue(0), CultureInfo.InvariantCulture));
            var usage = KeyringUsage.Count(connection, transaction);
            var prunable = versions.Where(v => v != versions[^1] && !usage.ContainsKey(v)).ToList();
            result = new PruneResult(prunable, versions.Except(prunable).ToList());
            if (prunable.Count > 0)
            {
                Keyring.Delete(connection, transaction, prunable);
                audit.Append(connection, transaction, new AuditEntry(AuditAction, AuditOutcomes.Success)
                {
                    Actor = actor,
                    Detail = $"key-encryption key versions {string.Join(", ", prunable)} pruned; kept {string.Join(", ", result.Kept)}",
                });
            }
            transaction.Commit();
        }
        keyring.Forget(result.Pruned);
        return result;
    }
}
