using Google.Protobuf;

namespace Xares.Protos;

/// <summary>
/// Shared by the SecretRedaction.cs partials of each proto package: the diagnostic text of a
/// message is the JSON of a copy whose secret fields are replaced. Linked, with those partials,
/// into every project that compiles the protos.
/// </summary>
internal static class MessageRedaction
{
    // Not diagnostic: it formats the redacted copy itself instead of asking the copy again.
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);

    public static string Mark(string value) => value.Length == 0 ? "" : "[redacted]";

    public static string Format<T>(T message, Action<T> redact) where T : IMessage<T>, IDeepCloneable<T>
    {
        var copy = message.Clone();
        redact(copy);
        return Formatter.Format(copy);
    }
}
