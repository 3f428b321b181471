using System.Text;
using Google.Protobuf;

namespace Xares.Tests.Shared;

/// <summary>
/// The check behind each program's SecretFormattingTests: a value carrying <see cref="Secret"/>,
/// formatted the ways a log line or an exception message would, never shows it. Linked into the
/// broker's, the sidecar's and the helper's tests.
/// </summary>
internal static class SecretFormatting
{
    public const string Secret = "xsecret-KnownValue-7f3a9c";

    public static void AssertNeverShows(string what, object value)
    {
        var texts = new List<string> { $"{value}", value.ToString()! };
        if (value is IMessage message)
        {
            texts.Add(JsonFormatter.ToDiagnosticString(message));
        }
        // Bytes fields show as base64 in JSON.
        string[] forms = [Secret, Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret))];
        foreach (var text in texts)
        {
            Assert.False(forms.Any(f => text.Contains(f, StringComparison.Ordinal)), $"{what} printed its secret: {text}");
        }
    }
}
