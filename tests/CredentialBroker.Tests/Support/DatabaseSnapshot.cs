using Xares.Broker.Storage;

namespace Xares.Broker.Tests.Support;

/// <summary>
/// Every row of every table a request could change, as text, for "nothing changed" assertions.
/// Leaves out the audit log (which records the attempts) and last-use times.
/// </summary>
internal static class DatabaseSnapshot
{
    private static readonly string[] Tables =
        ["users", "credentials", "workspaces", "api_keys", "leases", "sessions", "session_tokens", "bootstrap_tokens", "revocations", "keyring"];

    public static Task<string> TakeAsync(BrokerTestHost host) =>
        host.Get<Database>().ReadAsync(c => string.Join('\n', Tables.Select(table =>
            table + ": " + string.Join(" | ", Sql.Query(c, null, $"SELECT * FROM {table} ORDER BY rowid", r =>
                string.Join(",", Enumerable.Range(0, r.FieldCount).Where(i => !r.GetName(i).StartsWith("last_used", StringComparison.Ordinal))
                    .Select(i => r.GetName(i) + "=" + (r.IsDBNull(i) ? "null" : r.GetValue(i) is byte[] b ? Convert.ToHexString(b) : r.GetValue(i)))))))));
}
