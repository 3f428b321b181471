namespace Xares.GitHelper;

// git's request as the sidecar receives it. Fields git did not send are empty strings (proto3 style).
// Host keeps git's host[:port] form; Path has no leading slash, as git sends it.
internal sealed record CredentialRequest(string Protocol, string Host, string Path, string Username, string Password)
{
    public static readonly CredentialRequest Empty = new("", "", "", "", "");

    // git's erase carries the password it tried; a record would print it.
    public override string ToString() =>
        $"{nameof(CredentialRequest)} {{ Protocol = {Protocol}, Host = {Host}, Path = {Path}, Username = {Username}, Password = {(Password.Length == 0 ? "" : "[redacted]")} }}";
}

// What reading git's input produced: a request to act on, or none. A request that can match nothing
// carries a reason when it looks like a bug or an injection attempt (repeated or conflicting keys),
// and none when git legitimately asks about something without a protocol or host (e.g. cert).
internal readonly record struct CredentialInput(CredentialRequest? Request, string? NoMatchReason);
