namespace Xares.DevKit;

/// <summary>An account on a dev git server and the broker credential stored for it.</summary>
internal sealed record GitIdentity(string Username, string Token, string CredentialId)
{
    public override string ToString() => $"GitIdentity {{ Username = {Username}, CredentialId = {CredentialId} }}";
}
