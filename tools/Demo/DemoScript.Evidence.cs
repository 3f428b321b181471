using System.Text.Json;
using Xares.DevKit;

namespace Xares.Demo;

/// <summary>Steps 6 and 8: the audit trail and the search for the token on disk.</summary>
internal sealed partial class DemoScript
{
    private static readonly string[] AuditHeaders = ["#", "time (UTC)", "action", "outcome", "actor", "about", "detail"];

    private async Task ShowAuditAsync()
    {
        narrator.Say("Every issue of a secret is committed to the audit log before the secret leaves the broker:");
        var page = await CallAsync(HttpMethod.Get, "api/v1/audit?limit=200", printBody: false);
        var records = AdminClient.ItemsOf(page).Reverse().Select(AuditRow).ToList();
        narrator.Output(TextTable.Format(AuditHeaders, records));
        if (records.Count == 0 || !records.Any(r => r[2] == "lease.issue"))
        {
            throw new DemoException("the audit log holds no lease.issue record.");
        }

        var leases = AdminClient.ItemsOf(await CallAsync(HttpMethod.Get, $"api/v1/leases?workspaceId={Uri.EscapeDataString(workspaceId)}", printBody: false));
        narrator.Output(TextTable.Format(["lease", "credential", "issued", "expires", "status"], leases.Select(l => (IReadOnlyList<string>)
        [
            Text(l, "id"), Text(l, "credentialId"), Time(l, "issuedAt"), Time(l, "expiresAt"), Text(l, "status"),
        ])));

        var verdict = await CallAsync(HttpMethod.Get, "api/v1/audit/verify");
        var intact = new[] { "ok", "valid", "verified", "intact" }
            .Any(name => verdict.TryGetProperty(name, out var flag) && flag.ValueKind == JsonValueKind.True);
        if (!intact)
        {
            throw new DemoException("GET /api/v1/audit/verify did not report an intact chain.");
        }

        narrator.Ok("the HMAC chain is intact: no record was altered, removed, reordered or truncated");
    }

    private static IReadOnlyList<string> AuditRow(JsonElement r) =>
    [
        Text(r, "sequence"),
        Time(r, "at"),
        Text(r, "action"),
        Text(r, "outcome"),
        Text(r, "actor"),
        new[] { "leaseId", "credentialId", "workspaceId", "userId" }.Select(f => Text(r, f)).FirstOrDefault(v => v != "") ?? "",
        Text(r, "detail"),
    ];

    private static string Text(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Null or JsonValueKind.Undefined => "",
            _ => value.GetRawText(),
        } : "";

    private static string Time(JsonElement item, string name) =>
        DateTimeOffset.TryParse(Text(item, name), out var at) ? at.UtcDateTime.ToString("HH:mm:ss.fff") : Text(item, name);

    private Task ScanForTokenAsync()
    {
        var tempRoots = new[] { "/tmp", Path.GetTempPath() }
            .Select(p => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p))).Distinct().ToArray();
        (string What, string[] Roots, DateTime? Since)[] places =
        [
            ("workspace HOME", [Git.Home], null),
            ("workspace work tree", [Git.WorkRoot], null),
            ("the whole demo folder (broker db, logs…)", [directory.Path], null),
            ("temp dir: files written since the start", tempRoots, startedUtc),
        ];

        narrator.Say("Searching every file, byte for byte, for the git token and the bootstrap token:");
        var rows = new List<IReadOnlyList<string>>();
        var hits = new List<string>();
        foreach (var (what, roots, since) in places)
        {
            var found = SecretScanner.FindFilesContaining(token, roots, since)
                .Concat(SecretScanner.FindFilesContaining(bootstrapToken, roots, since))
                .Distinct()
                .ToList();
            hits.AddRange(found);
            rows.Add([what, string.Join(' ', roots), CountFiles(roots, since).ToString(), found.Count == 0 ? "no" : "YES"]);
        }

        narrator.Output(TextTable.Format(["where", "path", "files", "found"], rows));
        narrator.Line($"  token found on disk: {(hits.Count == 0 ? "no" : "YES")}");
        return hits.Count == 0
            ? Task.CompletedTask
            : throw new DemoException("a secret was found in:\n" + string.Join('\n', hits.Distinct()));
    }

    private static int CountFiles(IEnumerable<string> roots, DateTime? since)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        return roots.Where(Directory.Exists)
            .SelectMany(r => Directory.EnumerateFiles(r, "*", options))
            .Count(f => since is null || File.GetLastWriteTimeUtc(f) >= since);
    }
}
