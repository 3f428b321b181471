using System.Text;

namespace Xares.DevKit;

/// <summary>Searches files for a secret's bytes: the "no secret on any disk, in any log" invariant, checked for real.</summary>
internal static class SecretScanner
{
    /// <summary>
    /// Every file under <paramref name="roots"/> (folders searched recursively, symlinks not followed)
    /// that contains <paramref name="secret"/>; with <paramref name="modifiedSinceUtc"/>, only files
    /// written since then (for shared folders such as /tmp).
    /// </summary>
    public static IReadOnlyList<string> FindFilesContaining(string secret, IEnumerable<string> roots, DateTime? modifiedSinceUtc = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var needle = Encoding.UTF8.GetBytes(secret);
        var hits = new List<string>();
        foreach (var root in roots)
        {
            foreach (var file in FilesUnder(root))
            {
                if ((modifiedSinceUtc is null || File.GetLastWriteTimeUtc(file) >= modifiedSinceUtc) && Contains(file, needle))
                {
                    hits.Add(file);
                }
            }
        }

        return hits;
    }

    private static IEnumerable<string> FilesUnder(string root)
    {
        if (File.Exists(root))
        {
            return [root];
        }

        if (!Directory.Exists(root))
        {
            return [];
        }

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
        };
        return Directory.EnumerateFiles(root, "*", options);
    }

    private static bool Contains(string file, byte[] needle)
    {
        try
        {
            // Sockets and FIFOs report length 0 (and opening a FIFO would block): only files that
            // could hold the secret are opened.
            if (new FileInfo(file).Length < needle.Length)
            {
                return false;
            }

            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buffer = new byte[64 * 1024 + needle.Length];
            var carried = 0;
            int read;
            while ((read = stream.Read(buffer, carried, buffer.Length - carried)) > 0)
            {
                var filled = carried + read;
                if (buffer.AsSpan(0, filled).IndexOf(needle) >= 0)
                {
                    return true;
                }

                // Keep the tail so a secret split across two reads is still found.
                carried = Math.Min(needle.Length - 1, filled);
                buffer.AsSpan(filled - carried, carried).CopyTo(buffer);
            }

            return false;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
