using System.Text.Encodings.Web;
using System.Text.Json;

namespace Xares.Demo;

/// <summary>
/// Everything the demo prints goes through here. Every secret the demo comes to hold (the git
/// token, the admin key, the bootstrap token) is registered with <see cref="Protect"/> and
/// replaced by its prefix (<c>xbt_…</c>) wherever it would appear: command output, REST bodies,
/// error messages and log tails alike.
/// </summary>
internal sealed class Narrator(TextWriter output)
{
    /// <summary>For display only: indented, and "…" or "+" printed as themselves rather than \u escapes.</summary>
    public static readonly JsonSerializerOptions Display = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly List<string> secrets = [];

    /// <summary>Never prints <paramref name="secret"/> from now on.</summary>
    public void Protect(string secret)
    {
        if (secret.Length < 8)
        {
            throw new ArgumentException("Too short to be a secret worth protecting.", nameof(secret));
        }

        secrets.Add(secret);
    }

    /// <summary>What may be shown of a secret: its scanning prefix, such as <c>xbt_…</c>.</summary>
    public static string Mask(string secret)
    {
        var underscore = secret.IndexOf('_', StringComparison.Ordinal);
        return (underscore is > 0 and <= 8 ? secret[..(underscore + 1)] : secret[..Math.Min(3, secret.Length)]) + "…";
    }

    public void Banner(string title, string subtitle)
    {
        Line(title);
        Line(new string('=', title.Length));
        Line(subtitle);
    }

    public void Heading(int number, int total, string title)
    {
        var text = $"[{number}/{total}] {title}";
        Line("");
        Line(text);
        Line(new string('-', text.Length));
    }

    /// <summary>Explanation, indented under the heading.</summary>
    public void Say(string text) => Indent(text, "  ");

    /// <summary>A command as a shell user would type it.</summary>
    public void Command(string text) => Indent(text, "  $ ");

    /// <summary>What a command or call printed, set off from the narration.</summary>
    public void Output(string text)
    {
        var trimmed = text.TrimEnd('\n', '\r');
        if (trimmed.Length > 0)
        {
            Indent(trimmed, "    | ");
        }
    }

    public void Json(JsonElement json) => Output(JsonSerializer.Serialize(json, Display));

    public void Ok(string text) => Indent(text, "  ✓ ");

    public void Fail(string text) => Indent(text, "  ✗ ");

    public void Line(string text)
    {
        output.WriteLine(Redact(text));
        output.Flush();
    }

    public string Redact(string text)
    {
        foreach (var secret in secrets)
        {
            text = text.Replace(secret, Mask(secret), StringComparison.Ordinal);
        }

        return text;
    }

    private void Indent(string text, string firstPrefix)
    {
        var continuation = new string(' ', firstPrefix.Length);
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            Line((i == 0 || firstPrefix.EndsWith("| ", StringComparison.Ordinal) ? firstPrefix : continuation) + lines[i]);
        }
    }
}
