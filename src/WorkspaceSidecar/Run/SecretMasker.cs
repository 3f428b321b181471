using System.Text;

namespace Xares.Sidecar.Run;

/// <summary>
/// Copies a child's output, replacing every occurrence of a secret with <c>***</c>, as `op run`
/// does. Bytes that could be the start of a secret split across reads are held back until the
/// next read (or the end of the stream) decides.
/// </summary>
internal sealed class SecretMasker
{
    private static readonly byte[] Mask = "***"u8.ToArray();
    private readonly byte[][] _secrets;
    private byte[] _pending = [];

    public SecretMasker(IEnumerable<string> secrets) =>
        _secrets = secrets.Where(s => s.Length > 0).Distinct(StringComparer.Ordinal)
            .Select(Encoding.UTF8.GetBytes)
            .OrderByDescending(s => s.Length)
            .ToArray();

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> until the end, flushing after every read.</summary>
    public async Task CopyAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var output = new MemoryStream();
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            output.SetLength(0);
            Process(buffer.AsSpan(0, read), output, final: false);
            await WriteAsync(output, destination, cancellationToken);
        }
        output.SetLength(0);
        Process([], output, final: true);
        await WriteAsync(output, destination, cancellationToken);
    }

    /// <summary>Masks <paramref name="chunk"/> (after what was held back) into <paramref name="output"/>.</summary>
    internal void Process(ReadOnlySpan<byte> chunk, Stream output, bool final)
    {
        var data = _pending.Length == 0 ? chunk.ToArray() : [.. _pending, .. chunk];
        var start = 0;
        var i = 0;
        while (i < data.Length)
        {
            var rest = data.AsSpan(i);
            var matched = Match(rest);
            if (matched > 0)
            {
                output.Write(data, start, i - start);
                output.Write(Mask);
                i += matched;
                start = i;
                continue;
            }
            if (!final && CouldStartSecret(rest))
            {
                break;
            }
            i++;
        }
        output.Write(data, start, i - start);
        _pending = data[i..];
    }

    private int Match(ReadOnlySpan<byte> rest)
    {
        foreach (var secret in _secrets)
        {
            if (rest.StartsWith(secret))
            {
                return secret.Length;
            }
        }
        return 0;
    }

    private bool CouldStartSecret(ReadOnlySpan<byte> rest)
    {
        foreach (var secret in _secrets)
        {
            if (secret.Length > rest.Length && secret.AsSpan().StartsWith(rest))
            {
                return true;
            }
        }
        return false;
    }

    private static async Task WriteAsync(MemoryStream output, Stream destination, CancellationToken cancellationToken)
    {
        if (output.Length == 0)
        {
            return;
        }
        await destination.WriteAsync(output.GetBuffer().AsMemory(0, (int)output.Length), cancellationToken);
        await destination.FlushAsync(cancellationToken);
    }
}
