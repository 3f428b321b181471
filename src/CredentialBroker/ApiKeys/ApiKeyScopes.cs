namespace Xares.Broker.ApiKeys;

internal static class ApiKeyScopes
{
    public const string Admin = "admin";
    public const string UsersRead = "users:read";
    public const string UsersWrite = "users:write";
    public const string CredentialsRead = "credentials:read";
    public const string CredentialsWrite = "credentials:write";
    public const string WorkspacesRead = "workspaces:read";
    public const string WorkspacesWrite = "workspaces:write";
    public const string AuditRead = "audit:read";
    public const string KeysRotate = "keys:rotate";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Admin, UsersRead, UsersWrite, CredentialsRead, CredentialsWrite, WorkspacesRead, WorkspacesWrite, AuditRead, KeysRotate,
    };
}
