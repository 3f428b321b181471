namespace Xares.Broker.Minted;

/// <summary>Audit actions of minted git tokens. Details name apps, installations and scopes, never a key or token.</summary>
internal static class MintedAuditActions
{
    public const string AppRegister = "github_app.register";
    public const string AppDelete = "github_app.delete";

    /// <summary>A token was minted (success) or minting failed (failure: GitHub refused or was unreachable).</summary>
    public const string Mint = "github_app.mint";

    /// <summary>A revoked token was revoked at GitHub (success) or an attempt failed and will be retried (failure).</summary>
    public const string UpstreamRevoke = "github_app.token_revoke";
}
