using System.Data.Common;
using System.Text.Json;
using Xares.Broker.Api;
using Xares.Broker.Credentials;

namespace Xares.Broker.Users;

/// <summary>The rules a user's fields follow, the same on create, on PATCH and at a web UI sign-in.</summary>
internal static class UserInput
{
    public const int MaxEmailLength = 320;
    public const int MaxSubjectLength = 255;

    /// <summary>A trimmed e-mail address, or null: absent (no error) or invalid (with an error).</summary>
    public static string? Email(FieldErrors errors, string? value)
    {
        var email = errors.Label("email", value, required: false, maxLength: MaxEmailLength);
        if (email is not null && !IsEmail(email))
        {
            errors.Add("email", "email must be an e-mail address.");
        }
        return email;
    }

    public static bool IsEmail(string email) =>
        email.Length <= MaxEmailLength && email.Contains('@', StringComparison.Ordinal) && !email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));

    /// <summary>An OpenID Connect subject as given (subjects are compared exactly, so nothing is trimmed), or null when absent.</summary>
    public static string? Subject(FieldErrors errors, string? value)
    {
        if (value is null)
        {
            return null;
        }
        if (!IsSubject(value))
        {
            errors.Add("oidcSubject", $"oidcSubject must be 1 to {MaxSubjectLength} characters, without control characters or surrounding spaces.");
        }
        return value;
    }

    public static bool IsSubject(string subject) =>
        subject.Length is > 0 and <= MaxSubjectLength && !subject.Any(char.IsControl) && subject.Trim().Length == subject.Length;

    /// <summary>Refuses (409) a subject that another user already has; call inside the write unit that stores it.</summary>
    public static void EnsureSubjectFree(DbConnection connection, DbTransaction transaction, string? subject, string userId)
    {
        if (subject is not null && UserStore.FindBySubject(connection, transaction, subject) is { } holder && holder.Id != userId)
        {
            throw new ConflictException($"User {holder.Id} already has this oidcSubject; a subject identifies one user.");
        }
    }

    /// <summary>Validates a PATCH body against the current user: the user as it would be after it.</summary>
    public static UserRecord Apply(UpdateUserRequest body, UserRecord current)
    {
        if (body.Name.ValueKind == JsonValueKind.Undefined && body.Email.ValueKind == JsonValueKind.Undefined
            && body.OidcSubject.ValueKind == JsonValueKind.Undefined)
        {
            throw new ValidationException("The patch is empty: give name, email, oidcSubject or several of them.");
        }
        var errors = new FieldErrors();
        var name = body.Name.ValueKind switch
        {
            JsonValueKind.Undefined => current.Name,
            JsonValueKind.String when JsonText.Of(body.Name) is { } text => errors.Label("name", text, required: true),
            _ => Refuse(errors, "name", "name must be a string; a user always has one, so it cannot be removed with null."),
        };
        var email = body.Email.ValueKind switch
        {
            JsonValueKind.Undefined => current.Email,
            JsonValueKind.Null => null,
            JsonValueKind.String when JsonText.Of(body.Email) is { } text => Email(errors, text),
            _ => Refuse(errors, "email", "email must be a string, or null to remove it."),
        };
        var subject = body.OidcSubject.ValueKind switch
        {
            JsonValueKind.Undefined => current.OidcSubject,
            JsonValueKind.Null => null,
            JsonValueKind.String when JsonText.Of(body.OidcSubject) is { } text => Subject(errors, text),
            _ => Refuse(errors, "oidcSubject", "oidcSubject must be a string, or null to remove it."),
        };
        errors.ThrowIfAny();
        return current with { Name = name!, Email = email, OidcSubject = subject };
    }

    private static string? Refuse(FieldErrors errors, string field, string message)
    {
        errors.Add(field, message);
        return null;
    }
}
