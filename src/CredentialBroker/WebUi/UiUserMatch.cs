namespace Xares.Broker.WebUi;

/// <summary>How a web UI sign-in finds its broker user (`--ui-user-match`).</summary>
internal enum UiUserMatch
{
    /// <summary>The user whose e-mail equals the e-mail claim, compared without case.</summary>
    Email,

    /// <summary>The user whose stored OIDC subject equals the ID token's `sub`, exactly; e-mail never links.</summary>
    Subject,
}
