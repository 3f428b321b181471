namespace Xares.Broker.WebUi;

/// <summary>
/// Why a sign-in found no broker user: <see cref="Reason"/> for the broker's log, <see cref="Code"/>
/// for the page the person lands on, which shows a fixed text for it (nothing from the URL is echoed).
/// </summary>
internal sealed record UiRefusal(string Code, string Reason)
{
    public const string NoEmail = "no-email";
    public const string NoUser = "no-user";
    public const string NoSubject = "no-subject";
    public const string NotLinked = "not-linked";
    public const string EmailTaken = "email-taken";
    public const string SubjectMismatch = "subject-mismatch";

    private static readonly Dictionary<string, string> Messages = new(StringComparer.Ordinal)
    {
        [NoEmail] = "Your identity provider signed you in but sent no e-mail address, which this broker identifies you by. Ask an administrator.",
        [NoUser] = "Your identity provider signed you in, but no Xares user has your e-mail address. Ask an administrator to add you.",
        [NoSubject] = "Your identity provider signed you in but sent no usable subject identifier (sub), which this broker identifies you by. Ask an administrator.",
        [NotLinked] = "Your identity provider signed you in, but no Xares user is linked to your account there. "
            + "Ask an administrator to add you, or to link your user to your identity provider account (its subject identifier).",
        [EmailTaken] = "A Xares user already has your e-mail address, but it is not linked to your account at the identity provider, "
            + "and an e-mail address alone does not sign anyone in here. Ask an administrator to link it.",
        [SubjectMismatch] = "The Xares user with your e-mail address is linked to a different account at your identity provider. Ask an administrator.",
    };

    /// <summary>The text shown to the person for a code; a generic one for an unknown or missing code.</summary>
    public static string MessageFor(string? code) =>
        code is not null && Messages.TryGetValue(code, out var message) ? message : Messages[NoUser];
}
