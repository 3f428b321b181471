using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using Xares.Broker.Hosting;
using Xares.Broker.Security;
using Xares.Broker.Storage;

namespace Xares.Broker.Audit;

/// <summary>
/// Reads the audit records written since its last run (its position is in the database, and it
/// runs under the chain's write lock, so replicas take turns and each record is examined once),
/// keeps per-subject counters by time bucket, and raises flags: a workspace's lease rate far above
/// its usual, a workspace seen from a new address, repeated git rejections of a credential, a burst
/// of failed authentications from one address. Each flag is an audit record too.
/// </summary>
internal sealed partial class AuditFlagDetector(AuditChain audit, BrokerOptions options, TimeProvider time)
{
    internal const int BatchSize = 500;
    private const string LeaseCounter = "lease";
    private const string RejectionCounter = "rejection";
    private const string AuthFailureCounter = "auth_failure";
    private const long HourMs = 3_600_000;
    private const long MinuteMs = 60_000;
    private const int TrailingHours = 7 * 24;

    private AuditFlagThresholds Thresholds => options.Audit.Flags;

    /// <summary>Examines up to <see cref="BatchSize"/> new records; <see cref="AuditScan.More"/> says whether more are waiting.</summary>
    public AuditScan Scan(DbConnection c, DbTransaction t)
    {
        Database.LockForWrite(c, t);
        var last = Sql.Scalar(c, t, "SELECT last_seq FROM audit_flag_scan WHERE id = 1") is { } value ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0;
        var records = Sql.Query(c, t, $"SELECT {AuditRecord.Columns} FROM audit_log WHERE seq > @last ORDER BY seq LIMIT @n", AuditRecord.Read,
            ("@last", last), ("@n", BatchSize));
        if (records.Count == 0)
        {
            return new AuditScan(0, [], false);
        }
        var now = time.GetUtcNow();
        var raised = new List<AuditFlag>();
        // The newest record per counted subject: rates are judged once per subject and batch, at that record.
        var touched = new Dictionary<(string Counter, string Subject), AuditRecord>();
        // Counts and addresses are gathered per batch, so a busy workspace costs a statement per batch, not per record.
        var counts = new Dictionary<(string Counter, string Subject, long Bucket), long>();
        var seen = new HashSet<(string Workspace, string Address)>();
        void Count(string counter, string subject, long bucket, long amount) =>
            counts[(counter, subject, bucket)] = counts.GetValueOrDefault((counter, subject, bucket)) + amount;
        foreach (var record in records)
        {
            var success = record.Outcome == AuditOutcomes.Success;
            switch (record.Action)
            {
                case AuditActions.LeaseIssue when success && record.WorkspaceId is { } workspace:
                    Count(LeaseCounter, workspace, record.At.ToDb() / HourMs, 1);
                    touched[(LeaseCounter, workspace)] = record;
                    NoteAddress(c, t, record, seen, now, raised);
                    break;
                case AuditActions.SessionOpen or AuditActions.SessionRefresh when success:
                    NoteAddress(c, t, record, seen, now, raised);
                    break;
                case AuditActions.CredentialRejected when record.CredentialId is { } credential:
                    Count(RejectionCounter, credential, record.At.ToDb() / MinuteMs, 1);
                    touched[(RejectionCounter, credential)] = record;
                    break;
                case AuditActions.AuthFailure when record.RemoteAddress is { } address:
                    Count(AuthFailureCounter, address, record.At.ToDb() / MinuteMs, FailuresIn(record.Detail));
                    touched[(AuthFailureCounter, address)] = record;
                    break;
            }
        }
        foreach (var ((counter, subject, bucket), amount) in counts)
        {
            Add(c, t, counter, subject, bucket, amount);
        }
        // Every touched subject's window sums come back from one statement (per chunk), so a scan
        // holds the write lock for a few round trips, not several per busy workspace.
        var due = touched.Select(entry => Window(entry.Key.Counter, entry.Key.Subject, entry.Value))
            .Chunk(WindowsPerStatement)
            .SelectMany(chunk => SumWindows(c, t, chunk))
            .Select(window => Judge(window.Window, window.Sums))
            .OfType<DueFlag>()
            .ToList();
        // Subjects flagged within the cool-down are skipped: one statement per kind of flag.
        foreach (var kind in due.GroupBy(flag => (flag.Kind, flag.Subject)))
        {
            var recent = AuditFlagStore.RaisedSince(c, t, kind.Key.Kind, kind.Key.Subject, kind.Select(flag => flag.Value), now - Thresholds.Cooldown);
            foreach (var flag in kind.Where(flag => !recent.Contains(flag.Value)))
            {
                raised.Add(Raise(c, t, flag.Kind, flag.About, now, flag.Detail));
            }
        }
        Sql.Execute(c, t,
            "INSERT INTO audit_flag_scan (id, last_seq) VALUES (1, @seq) ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq",
            ("@seq", records[^1].Sequence));
        ForgetOldCounters(c, t, now);
        return new AuditScan(records.Count, raised, records.Count == BatchSize);
    }

    /// <summary>
    /// The buckets a subject is judged over, at its newest record of the batch: [From, To), of which
    /// [Current, To) is "now" (the lease rate's current hour against the trailing week before it).
    /// </summary>
    private sealed record CounterWindow(string Counter, string Subject, AuditRecord Record, long From, long Current, long To);

    private const int WindowsPerStatement = 200;

    private static CounterWindow Window(string counter, string subject, AuditRecord record)
    {
        var at = record.At.ToDb();
        return counter switch
        {
            LeaseCounter => new CounterWindow(counter, subject, record, at / HourMs - TrailingHours, at / HourMs, at / HourMs + 1),
            RejectionCounter => new CounterWindow(counter, subject, record, at / MinuteMs - 59, at / MinuteMs - 59, at / MinuteMs + 1),
            _ => new CounterWindow(counter, subject, record, at / MinuteMs - 4, at / MinuteMs - 4, at / MinuteMs + 1),
        };
    }

    /// <summary>Each window's count in [Current, To) and in [From, Current).</summary>
    private static IEnumerable<(CounterWindow Window, (long Current, long Before) Sums)> SumWindows(DbConnection c, DbTransaction t, CounterWindow[] windows)
    {
        var rows = string.Join(", ", windows.Select((_, i) => $"(@k{i}, @s{i}, @f{i}, @c{i}, @t{i})"));
        var parameters = windows.SelectMany((w, i) => new (string, object?)[]
        {
            ($"@k{i}", w.Counter), ($"@s{i}", w.Subject), ($"@f{i}", w.From), ($"@c{i}", w.Current), ($"@t{i}", w.To),
        }).ToArray();
        var sums = Sql.Query(c, t,
            $"""
            WITH w(kind, subject, lo, cur, hi) AS (VALUES {rows})
            SELECT w.kind, w.subject,
                COALESCE(SUM(CASE WHEN n.bucket >= w.cur THEN n.count ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN n.bucket < w.cur THEN n.count ELSE 0 END), 0)
            FROM w LEFT JOIN audit_flag_counters n ON n.kind = w.kind AND n.subject = w.subject AND n.bucket >= w.lo AND n.bucket < w.hi
            GROUP BY w.kind, w.subject
            """,
            r => (Key: (r.GetString(0), r.GetString(1)), Current: Convert.ToInt64(r.GetValue(2), CultureInfo.InvariantCulture),
                Before: Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture)),
            parameters).ToDictionary(row => row.Key, row => (row.Current, row.Before));
        return windows.Select(w => (w, sums.GetValueOrDefault((w.Counter, w.Subject))));
    }

    /// <summary>A flag a window's counts call for, unless one was raised about the same subject within the cool-down.</summary>
    private sealed record DueFlag(string Kind, AuditFlagSubject Subject, string Value, AuditRecord About, string Detail);

    private DueFlag? Judge(CounterWindow window, (long Current, long Before) sums)
    {
        var (subject, record, current) = (window.Subject, window.Record, sums.Current);
        switch (window.Counter)
        {
            case LeaseCounter:
                var average = sums.Before / (double)TrailingHours;
                return current > Thresholds.LeaseRateFloor && current > Thresholds.LeaseRateFactor * average
                    ? new DueFlag(AuditFlagKinds.LeaseRate, AuditFlagSubject.Workspace, subject, record with { CredentialId = null, LeaseId = null, RemoteAddress = null },
                        $"{current} leases in the hour from {DateTimeOffset.FromUnixTimeMilliseconds(window.Current * HourMs):u}, against a trailing 7-day average of {average:0.##} an hour")
                    : null;
            case RejectionCounter:
                return current >= Thresholds.Rejections
                    ? new DueFlag(AuditFlagKinds.RepeatedRejections, AuditFlagSubject.Credential, subject, record with { LeaseId = null },
                        $"git rejected this credential's secret {current} times within an hour")
                    : null;
            default:
                return current >= Thresholds.AuthFailures
                    ? new DueFlag(AuditFlagKinds.AuthFailures, AuditFlagSubject.RemoteAddress, subject,
                        record with { UserId = null, WorkspaceId = null, CredentialId = null, LeaseId = null },
                        $"{current} failed authentications from {subject} within 5 minutes")
                    : null;
        }
    }

    // Pairs known to be in audit_seen_addresses (found there by an earlier scan, so committed): the
    // usual case, a workspace seen again from its usual address, then costs no statement at all.
    private readonly ConcurrentDictionary<(string Workspace, string Address), byte> _knownAddresses = new();
    private const int KnownAddressesCap = 100_000;

    // A workspace's first address is its baseline; any address after that is new once.
    private void NoteAddress(DbConnection c, DbTransaction t, AuditRecord record, HashSet<(string, string)> seen, DateTimeOffset now, List<AuditFlag> raised)
    {
        if (record is not { WorkspaceId: { } workspace, RemoteAddress: { } address } || !seen.Add((workspace, address))
            || _knownAddresses.ContainsKey((workspace, address)))
        {
            return;
        }
        var added = Sql.Execute(c, t,
            "INSERT INTO audit_seen_addresses (workspace_id, address, first_seen) VALUES (@ws, @address, @at) ON CONFLICT (workspace_id, address) DO NOTHING",
            ("@ws", workspace), ("@address", address), ("@at", record.At.ToDb()));
        if (added == 0)
        {
            if (_knownAddresses.Count >= KnownAddressesCap)
            {
                _knownAddresses.Clear();
            }
            _knownAddresses.TryAdd((workspace, address), 0);
        }
        if (added == 1 && Convert.ToInt64(Sql.Scalar(c, t, "SELECT COUNT(*) FROM audit_seen_addresses WHERE workspace_id = @ws", ("@ws", workspace)), CultureInfo.InvariantCulture) > 1)
        {
            raised.Add(Raise(c, t, AuditFlagKinds.NewAddress, record with { CredentialId = null, LeaseId = null }, now,
                $"{record.Action} from {address}, an address this workspace was not seen from before"));
        }
    }

    private AuditFlag Raise(DbConnection c, DbTransaction t, string kind, AuditRecord about, DateTimeOffset now, string detail)
    {
        var entry = audit.AppendNow(c, t, new AuditEntry(AuditActions.AuditFlag, AuditOutcomes.Success)
        {
            Actor = "broker", UserId = about.UserId, WorkspaceId = about.WorkspaceId, CredentialId = about.CredentialId,
            RemoteAddress = about.RemoteAddress, Detail = $"{kind}: {detail} (record {about.Sequence})",
        });
        var flag = new AuditFlag(entry.Sequence, OpaqueToken.NewId("flag_"), kind, now, about.UserId, about.WorkspaceId, about.CredentialId,
            about.RemoteAddress, detail, null, null);
        AuditFlagStore.Insert(c, t, flag);
        return flag;
    }

    // Held back (PostgreSQL) and sent with the window sums that read it.
    private static void Add(DbConnection c, DbTransaction t, string counter, string subject, long bucket, long amount) =>
        Sql.Write(c, t,
            """
            INSERT INTO audit_flag_counters (kind, subject, bucket, count) VALUES (@kind, @subject, @bucket, @n)
            ON CONFLICT (kind, subject, bucket) DO UPDATE SET count = audit_flag_counters.count + excluded.count
            """,
            ("@kind", counter), ("@subject", subject), ("@bucket", bucket), ("@n", amount));

    private static void ForgetOldCounters(DbConnection c, DbTransaction t, DateTimeOffset now)
    {
        Sql.Execute(c, t, "DELETE FROM audit_flag_counters WHERE kind = @kind AND bucket < @before",
            ("@kind", LeaseCounter), ("@before", now.ToDb() / HourMs - TrailingHours - 1));
        Sql.Execute(c, t, "DELETE FROM audit_flag_counters WHERE kind <> @kind AND bucket < @before",
            ("@kind", LeaseCounter), ("@before", now.ToDb() / MinuteMs - 120));
    }

    /// <summary>
    /// How many failures one auth.failure record stands for: records aggregated per client and
    /// window say so in their detail (RateLimiting/AuthFailureAudit writes "37 more failures within
    /// 60 s of the first"); a plain record is one.
    /// </summary>
    internal static long FailuresIn(string? detail) =>
        detail is not null && AggregatedFailures().Match(detail) is { Success: true } match
        && long.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;

    [GeneratedRegex(@"\b(\d{1,9}) (?:more )?(?:failures|failed|attempts)\b", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex AggregatedFailures();
}

internal sealed record AuditScan(int Examined, IReadOnlyList<AuditFlag> Raised, bool More);
