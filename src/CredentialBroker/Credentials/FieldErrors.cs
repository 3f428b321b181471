using Xares.Broker.Api;

namespace Xares.Broker.Credentials;

/// <summary>
/// Collects per-field problems of a REST body so one 400 names all of them (RFC 9457 "errors").
/// Messages describe the rule, never echo the submitted value (it may be a secret).
/// </summary>
internal sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }
        messages.Add(message);
    }

    public void ThrowIfAny(string summary = "The request has invalid fields.")
    {
        if (Any)
        {
            throw new ValidationException(summary, _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
        }
    }

    /// <summary>A trimmed, printable label (names, e-mail addresses): null when absent and optional.</summary>
    public string? Label(string field, string? value, bool required, int maxLength = 200)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            if (required)
            {
                Add(field, $"{field} is required.");
            }
            return null;
        }
        if (trimmed.Length > maxLength)
        {
            Add(field, $"{field} must be at most {maxLength} characters.");
        }
        if (trimmed.Any(char.IsControl))
        {
            Add(field, $"{field} must not contain control characters.");
        }
        return trimmed;
    }

    /// <summary>An expiry must lie in the future.</summary>
    public void Future(string field, DateTimeOffset? value, DateTimeOffset now)
    {
        if (value is { } at && at <= now)
        {
            Add(field, $"{field} must be in the future.");
        }
    }
}
