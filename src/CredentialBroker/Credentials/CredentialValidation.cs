using Xares.Broker.Credentials.Matching;

namespace Xares.Broker.Credentials;

/// <summary>A create request that passed validation, in canonical form.</summary>
internal sealed record ValidCredential(string Kind, string Provider, string? Name, string? Url, GitEndpoint? Git, string? Username, long? MonthlyLimit, string Delivery);

/// <summary>The parts of a PATCH that can be checked without the stored row.</summary>
internal sealed record CredentialPatch(
    FieldChange<string?> Name,
    FieldChange<DateTimeOffset?> ExpiresAt,
    GitDestination? Destination,
    FieldChange<string?> BaseUrl,
    string? Username,
    FieldChange<long?> MonthlyLimit,
    string? Delivery);

/// <summary>A requested change of a removable field: <see cref="Specified"/> false leaves it; a null <see cref="Value"/> removes it.</summary>
internal readonly record struct FieldChange<T>(bool Specified, T Value)
{
    public static FieldChange<T> Unchanged => default;

    public T ApplyTo(T current) => Specified ? Value : current;
}

/// <summary>Turns REST bodies into canonical values, or one 400 naming every bad field.</summary>
internal static class CredentialValidation
{
    private const string GitOnlyUrl = "url applies to git credentials only; ai credentials take baseUrl.";
    private const string GitOnlyUsername = "username applies to git credentials only.";
    private const string AiOnlyBaseUrl = "baseUrl applies to ai credentials only; git credentials take url.";
    private const string AiOnlyDelivery = "delivery applies to ai credentials only.";

    public static ValidCredential ForCreate(CreateCredentialRequest body, DateTimeOffset now)
    {
        var errors = new FieldErrors();
        CredentialInput.Kind(errors, body.Kind);
        var kind = body.Kind ?? "";
        CredentialInput.Provider(errors, kind, body.Provider, required: true);
        CredentialInput.Secret(errors, body.Secret, required: true);
        var name = errors.Label("name", body.Name, required: false);
        errors.Future("expiresAt", body.ExpiresAt, now);
        var monthlyLimit = CredentialInput.MonthlyLimit(errors, body.MonthlyLimit);

        CredentialInput.Delivery(errors, body.Delivery);
        string? url = null;
        GitEndpoint? git = null;
        string? username = null;
        var delivery = CredentialDelivery.Any;
        if (kind == CredentialKinds.Git)
        {
            RefuseIfSet(errors, "delivery", body.Delivery, AiOnlyDelivery);
            var destination = CredentialInput.GitUrl(errors, body.Url, required: true);
            username = CredentialInput.Username(errors, body.Username, required: true);
            RefuseIfSet(errors, "baseUrl", body.BaseUrl, AiOnlyBaseUrl);
            url = destination?.CanonicalUrl;
            git = destination is null ? null : CredentialInput.Endpoint(destination);
        }
        else if (kind == CredentialKinds.Ai)
        {
            url = CredentialInput.BaseUrl(errors, body.BaseUrl);
            RefuseIfSet(errors, "url", body.Url, GitOnlyUrl);
            RefuseIfSet(errors, "username", body.Username, GitOnlyUsername);
            delivery = body.Delivery ?? CredentialDelivery.Proxy;
        }
        errors.ThrowIfAny();
        return new ValidCredential(kind, body.Provider!, name, url, git, username, monthlyLimit.Value, delivery);
    }

    public static CredentialPatch ForUpdate(UpdateCredentialRequest body, DateTimeOffset now)
    {
        var errors = new FieldErrors();
        CredentialInput.Secret(errors, body.Secret, required: false);
        var name = CredentialInput.NameChange(errors, body.Name);
        var expiresAt = CredentialInput.ExpiresAtChange(errors, body.ExpiresAt, now);
        var username = CredentialInput.Username(errors, body.Username, required: false);
        var destination = CredentialInput.GitUrl(errors, body.Url, required: false);
        var baseUrl = CredentialInput.BaseUrlChange(errors, body.BaseUrl);
        var monthlyLimit = CredentialInput.MonthlyLimit(errors, body.MonthlyLimit);
        CredentialInput.Delivery(errors, body.Delivery);
        errors.ThrowIfAny();
        return new CredentialPatch(name, expiresAt, destination, baseUrl, username, monthlyLimit, body.Delivery);
    }

    /// <summary>
    /// The stored row with the patch applied, and the names of the fields that really changed.
    /// Rule a: url/baseUrl, provider and username change only together with a new secret.
    /// </summary>
    public static (CredentialRecord Updated, List<string> Changed) Apply(CredentialRecord current, UpdateCredentialRequest body, CredentialPatch patch)
    {
        var errors = new FieldErrors();
        CredentialInput.Provider(errors, current.Kind, body.Provider, required: false);
        var updated = current;
        if (current.Kind == CredentialKinds.Git)
        {
            RefuseIfSet(errors, "baseUrl", patch.BaseUrl.Value, AiOnlyBaseUrl);
            RefuseIfSet(errors, "delivery", patch.Delivery, AiOnlyDelivery);
            if (patch.Destination is { } destination)
            {
                updated = updated with { Url = destination.CanonicalUrl, Git = CredentialInput.Endpoint(destination) };
            }
            updated = updated with { Username = patch.Username ?? current.Username };
        }
        else
        {
            RefuseIfSet(errors, "url", body.Url, GitOnlyUrl);
            RefuseIfSet(errors, "username", body.Username, GitOnlyUsername);
            updated = updated with { Url = patch.BaseUrl.ApplyTo(current.Url), Delivery = patch.Delivery ?? current.Delivery };
        }
        errors.ThrowIfAny();
        updated = updated with
        {
            Provider = body.Provider ?? current.Provider,
            Name = patch.Name.ApplyTo(current.Name),
            ExpiresAt = patch.ExpiresAt.ApplyTo(current.ExpiresAt),
            MonthlyLimit = patch.MonthlyLimit.ApplyTo(current.MonthlyLimit),
        };

        var changed = new List<string>();
        AddIf(changed, "name", updated.Name != current.Name);
        AddIf(changed, "expiresAt", updated.ExpiresAt != current.ExpiresAt);
        AddIf(changed, "monthlyLimit", updated.MonthlyLimit != current.MonthlyLimit);
        AddIf(changed, "delivery", updated.Delivery != current.Delivery);
        var destinationFields = new List<string>();
        AddIf(destinationFields, current.Kind == CredentialKinds.Git ? "url" : "baseUrl", updated.Url != current.Url);
        AddIf(destinationFields, "provider", updated.Provider != current.Provider);
        AddIf(destinationFields, "username", updated.Username != current.Username);
        if (destinationFields.Count > 0 && body.Secret is null)
        {
            foreach (var field in destinationFields)
            {
                errors.Add(field, $"{field} changes only together with a new secret (the destination is bound to the secret).");
            }
            errors.ThrowIfAny("The destination of a credential changes only together with a new secret.");
        }
        changed.AddRange(destinationFields);
        AddIf(changed, "secret", body.Secret is not null);
        return (updated, changed);
    }

    private static void RefuseIfSet(FieldErrors errors, string field, string? value, string message)
    {
        if (value is not null)
        {
            errors.Add(field, message);
        }
    }

    private static void AddIf(List<string> list, string item, bool condition)
    {
        if (condition)
        {
            list.Add(item);
        }
    }
}
