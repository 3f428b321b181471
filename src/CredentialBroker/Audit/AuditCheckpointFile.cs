using System.Text.Json;
using Xares.Broker.Vault;

namespace Xares.Broker.Audit;

/// <summary>
/// The append-only JSON-lines file of checkpoints, kept outside the database (by default
/// `&lt;data-dir&gt;/audit-checkpoints.jsonl`, ideally on another volume or host), so restoring or
/// cutting the database does not also rewrite what the checkpoints remember.
/// </summary>
internal static class AuditCheckpointFile
{
    public const string DefaultName = "audit-checkpoints.jsonl";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Appends one line (a single write) and flushes it to disk; creates the file owner-only (0600).</summary>
    public static void Append(string path, AuditCheckpoint checkpoint)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(checkpoint, Json);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.ReadWrite,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        // A line torn by a crash stays a line of its own (skipped as unreadable) instead of spoiling the next one.
        var newline = file.Length > 0 && LastByte(path) != (byte)'\n';
        file.Write([.. newline ? "\n"u8 : [], .. line, .. "\n"u8]);
        file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Every line whose MAC verifies, plus the lines that do not (forged or altered: a failure) and
    /// the count of lines that are not checkpoints at all (e.g. torn by a crash mid-write). A missing file is empty.
    /// </summary>
    public static AuditCheckpointSet Read(string path, Keyring keyring)
    {
        var set = new AuditCheckpointSet();
        if (!File.Exists(path))
        {
            return set;
        }
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }
            AuditCheckpoint? checkpoint;
            try
            {
                checkpoint = JsonSerializer.Deserialize<AuditCheckpoint>(line, Json);
            }
            catch (JsonException)
            {
                checkpoint = null;
            }
            if (checkpoint is not { Mac: not null, CheckpointMac: not null })
            {
                set.Unreadable++;
                continue;
            }
            if (!keyring.Versions.Contains(checkpoint.KeyVersion))
            {
                // Its key was pruned (keys prune): it can't be checked, only placed.
                set.PrunedKeyLines.Add((number, checkpoint.Sequence));
            }
            else if (AuditMacs.Matches(checkpoint.CheckpointMac, () => AuditMacs.Checkpoint(keyring, checkpoint.KeyVersion, checkpoint.Sequence, checkpoint.At, checkpoint.Mac)))
            {
                set.Add(checkpoint);
            }
            else
            {
                set.ForgedLines.Add(number);
            }
        }
        return set;
    }

    private static int LastByte(string path)
    {
        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        reader.Seek(-1, SeekOrigin.End);
        return reader.ReadByte();
    }
}

/// <summary>The verified checkpoints of a file, by sequence, and what could not be used.</summary>
internal sealed class AuditCheckpointSet
{
    private readonly Dictionary<long, List<AuditCheckpoint>> _bySequence = [];

    public static AuditCheckpointSet Empty => new();

    /// <summary>The checkpoint naming the highest sequence, null when there is none.</summary>
    public AuditCheckpoint? Latest { get; private set; }

    public int Count { get; private set; }

    public List<int> ForgedLines { get; } = [];

    /// <summary>Lines MACed under a key version no longer in the keyring, with the sequence they name.</summary>
    public List<(int Line, long Sequence)> PrunedKeyLines { get; } = [];

    public int Unreadable { get; set; }

    public void Add(AuditCheckpoint checkpoint)
    {
        if (!_bySequence.TryGetValue(checkpoint.Sequence, out var list))
        {
            _bySequence[checkpoint.Sequence] = list = [];
        }
        list.Add(checkpoint);
        Count++;
        if (Latest is null || checkpoint.Sequence > Latest.Sequence)
        {
            Latest = checkpoint;
        }
    }

    public IReadOnlyList<AuditCheckpoint> At(long sequence) => _bySequence.TryGetValue(sequence, out var list) ? list : [];
}
