namespace Xares.Broker.Audit;

/// <summary>One thing to record. Never holds a secret: ids, actions, outcomes and addresses only.</summary>
internal sealed record AuditEntry(string Action, string Outcome)
{
    public string? Actor { get; init; }
    public string? UserId { get; init; }
    public string? WorkspaceId { get; init; }
    public string? CredentialId { get; init; }
    public string? LeaseId { get; init; }
    public string? RemoteAddress { get; init; }
    public string? Detail { get; init; }
}

/// <summary>Stable action names, queried through the REST API.</summary>
internal static class AuditActions
{
    public const string UserCreate = "user.create";
    public const string UserUpdate = "user.update";
    public const string UserDelete = "user.delete";
    public const string CredentialCreate = "credential.create";
    public const string CredentialUpdate = "credential.update";
    public const string CredentialDelete = "credential.delete";
    public const string CredentialRejected = "credential.rejected";
    public const string CredentialIntegrity = "credential.integrity";
    public const string WorkspaceCreate = "workspace.create";
    public const string WorkspaceUpdate = "workspace.update";
    public const string WorkspaceRevoke = "workspace.revoke";
    public const string BootstrapMint = "bootstrap.mint";
    public const string SessionOpen = "session.open";
    public const string SessionRefresh = "session.refresh";
    public const string SessionReplay = "session.replay";
    public const string LeaseIssue = "lease.issue";
    public const string LeaseRevoke = "lease.revoke";
    public const string LeaseForeignHelper = "lease.foreign_helper";
    public const string ApiKeyCreate = "apikey.create";
    public const string ApiKeyRevoke = "apikey.revoke";
    public const string ApiKeyRotate = "apikey.rotate";
    public const string AuthFailure = "auth.failure";
    public const string KeysRotate = "keys.rotate";
    public const string KeysRekey = "keys.rekey";
    public const string AuditPruned = "audit.pruned";
    public const string AuditFlag = "audit.flag";
    public const string AuditFlagAck = "audit.flag.ack";
}

internal static class AuditOutcomes
{
    public const string Success = "success";
    public const string Denied = "denied";
    public const string Failure = "failure";
}
