using Microsoft.Extensions.Time.Testing;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.Vault;

public sealed class RewrapProgressTests
{
    [Fact]
    public void Format_HalfDone_ShowsBarCountsPercentAndRate()
    {
        Assert.Equal("[###############...............] 1000/2000 data keys re-wrapped (50%), 500 per second",
            RewrapProgress.Format(1000, 2000, 0, TimeSpan.FromSeconds(2)));
        Assert.EndsWith("(100%), 0 per second, 2 unreadable", RewrapProgress.Format(5, 3, 2, TimeSpan.Zero)); // total grew meanwhile
    }

    [Fact]
    public void Report_OnTerminal_RedrawsOneLineInPlace()
    {
        var time = new FakeTimeProvider();
        var output = new StringWriter();
        var progress = new RewrapProgress(output, redraw: true, time);

        progress.Report(10, 100, 0);
        progress.Report(20, 100, 0); // too soon: skipped
        time.Advance(TimeSpan.FromMilliseconds(150));
        progress.Report(30, 100, 0);
        progress.Finish();

        var text = output.ToString();
        Assert.Equal(2, text.Count(c => c == '\r'));
        Assert.DoesNotContain(" 20/100", text);
        Assert.EndsWith(Environment.NewLine, text);
        Assert.Single(text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Report_NotATerminal_WritesPlainLinesEveryFewSeconds()
    {
        var time = new FakeTimeProvider();
        var output = new StringWriter();
        var progress = new RewrapProgress(output, redraw: false, time);

        for (var done = 0; done <= 100; done += 10)
        {
            progress.Report(done, 100, 0);
            time.Advance(TimeSpan.FromMilliseconds(500));
        }
        progress.Report(100, 100, 0, force: true);
        progress.Finish();

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain('\r', output.ToString());
        Assert.Equal(4, lines.Length); // 0, 40, 80 (every 2 s) and the final one
        Assert.Contains("100/100", lines[^1]);
    }
}
