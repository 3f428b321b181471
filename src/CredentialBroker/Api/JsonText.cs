using System.Text.Json;

namespace Xares.Broker.Api;

/// <summary>The text of a JSON string in a request body, for the inputs that read members one by one.</summary>
internal static class JsonText
{
    /// <summary>
    /// The string's value, or null when <paramref name="value"/> is not a string, or is one whose
    /// escapes make no UTF-16 text (an unpaired surrogate such as <c>\ud800</c>), which
    /// <see cref="JsonElement.GetString"/> throws on: the caller refuses it like a wrong type (400), not with a 500.
    /// </summary>
    public static string? Of(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
