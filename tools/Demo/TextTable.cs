using System.Text;
using System.Text.RegularExpressions;

namespace Xares.Demo;

/// <summary>A plain-text table for the terminal; long broker ids are shortened to <c>wsp_…3f9a1c</c>.</summary>
internal static partial class TextTable
{
    private const int MaxCell = 48;

    public static string Format(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var cells = rows.Select(r => r.Select(Cell).ToArray()).ToList();
        var widths = headers.Select((h, i) => cells.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        AppendRow(text, headers, widths);
        AppendRow(text, widths.Select(w => new string('-', w)).ToArray(), widths);
        foreach (var row in cells)
        {
            AppendRow(text, row, widths);
        }

        return text.ToString();
    }

    /// <summary>A broker id (prefix, underscore, 32 hex digits) as its prefix and last six digits.</summary>
    public static string ShortIds(string text) => BrokerId().Replace(text, m => $"{m.Groups[1].Value}…{m.Groups[2].Value}");

    private static string Cell(string value)
    {
        var shortened = ShortIds(value.ReplaceLineEndings(" "));
        return shortened.Length <= MaxCell ? shortened : shortened[..(MaxCell - 1)] + "…";
    }

    private static void AppendRow(StringBuilder text, IReadOnlyList<string> row, int[] widths)
    {
        for (var i = 0; i < row.Count; i++)
        {
            text.Append(i == row.Count - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
        }

        text.Append('\n');
    }

    [GeneratedRegex(@"\b([a-z]{2,8}_)[0-9a-f]{26}([0-9a-f]{6})\b")]
    private static partial Regex BrokerId();
}
