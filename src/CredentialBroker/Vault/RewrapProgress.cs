using System.Globalization;

namespace Xares.Broker.Vault;

/// <summary>
/// The re-wrap's progress bar (hand-written: one line does not need a console library). On a
/// terminal it redraws one line in place with \r; otherwise (logs, pipes) it writes a plain line
/// every few seconds, so a log stays readable.
/// </summary>
internal sealed class RewrapProgress(TextWriter output, bool redraw, TimeProvider time)
{
    private const int BarWidth = 30;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(2);

    private readonly long _started = time.GetTimestamp();
    private long? _lastDrawn;
    private (long, long, long) _lastShown = (-1, -1, -1);
    private int _lastWidth;

    /// <summary>Shows the state, unless it was shown very recently (<paramref name="force"/>: unless it is what was last shown).</summary>
    public void Report(long done, long total, long unreadable, bool force = false)
    {
        var shown = (done, Math.Max(total, done), unreadable);
        if (_lastDrawn is { } last && (force ? shown == _lastShown : time.GetElapsedTime(last) < (redraw ? RedrawInterval : LineInterval)))
        {
            return;
        }
        _lastDrawn = time.GetTimestamp();
        _lastShown = shown;
        var line = Format(done, total, unreadable, time.GetElapsedTime(_started));
        if (redraw)
        {
            output.Write("\r" + line.PadRight(_lastWidth));
            _lastWidth = line.Length;
        }
        else
        {
            output.WriteLine("  " + line);
        }
        output.Flush();
    }

    /// <summary>Ends the redrawn line so the next output starts on its own.</summary>
    public void Finish()
    {
        if (redraw && _lastWidth > 0)
        {
            output.WriteLine();
            _lastWidth = 0;
        }
    }

    internal static string Format(long done, long total, long unreadable, TimeSpan elapsed)
    {
        total = Math.Max(total, done); // rows written meanwhile can add to the first count
        var fraction = total == 0 ? 1.0 : (double)done / total;
        var filled = (int)Math.Round(fraction * BarWidth);
        var rate = elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0;
        return string.Create(CultureInfo.InvariantCulture,
            $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] {done}/{total} data keys re-wrapped ({fraction * 100:0}%), {rate:0} per second{(unreadable > 0 ? $", {unreadable} unreadable" : "")}");
    }
}
