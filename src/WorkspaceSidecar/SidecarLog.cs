using Microsoft.Extensions.Logging;

namespace Xares.Sidecar;

/// <summary>
/// Every log line the sidecar writes. Only ids, counts, hosts and reasons: never a token,
/// secret or password (invariant 2), so no message here takes one.
/// </summary>
internal static partial class SidecarLog
{
    // 1xx: process and socket
    [LoggerMessage(100, LogLevel.Information, "xares-sidecar {Version} starting: broker {BrokerUrl}, socket {SocketPath}")]
    public static partial void Starting(ILogger logger, string version, string brokerUrl, string socketPath);

    [LoggerMessage(109, LogLevel.Warning, "PLAINTEXT to broker {BrokerUrl} ({Variable}): session tokens and leases cross this hop unencrypted unless the service mesh encrypts it")]
    public static partial void PlaintextMesh(ILogger logger, string brokerUrl, string variable);

    [LoggerMessage(102, LogLevel.Information, "listening on {SocketPath}")]
    public static partial void Listening(ILogger logger, string socketPath);

    [LoggerMessage(103, LogLevel.Warning, "refused connection from pid {Pid} uid {Uid}: {Reason}")]
    public static partial void PeerRefused(ILogger logger, int pid, uint uid, string reason);

    [LoggerMessage(104, LogLevel.Debug, "local connection failed: {ErrorType}: {Error}")]
    public static partial void ConnectionFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(105, LogLevel.Error, "local connection crashed")]
    public static partial void ConnectionCrashed(ILogger logger, Exception exception);

    [LoggerMessage(106, LogLevel.Error, "handling a {RequestKind} request failed")]
    public static partial void RequestFailed(ILogger logger, string requestKind, Exception exception);

    [LoggerMessage(107, LogLevel.Information, "stopping")]
    public static partial void Stopping(ILogger logger);

    // 2xx: bootstrap and session
    [LoggerMessage(200, LogLevel.Information, "read and deleted the bootstrap token file {Path}")]
    public static partial void BootstrapFileConsumed(ILogger logger, string path);

    [LoggerMessage(201, LogLevel.Warning, "cannot use the bootstrap token file {Path}: {Reason}")]
    public static partial void BootstrapFileUnusable(ILogger logger, string path, string reason);

    [LoggerMessage(202, LogLevel.Information, "no bootstrap token file at {Path}; waiting for `xares-sidecar bootstrap`")]
    public static partial void WaitingForBootstrap(ILogger logger, string path);

    [LoggerMessage(203, LogLevel.Information, "bootstrap token received over the socket from pid {Pid} uid {Uid}")]
    public static partial void BootstrapReceived(ILogger logger, int pid, uint uid);

    [LoggerMessage(204, LogLevel.Warning, "refused a bootstrap from pid {Pid} uid {Uid}: only the sidecar's own uid or root may bootstrap")]
    public static partial void BootstrapPeerRefused(ILogger logger, int pid, uint uid);

    [LoggerMessage(205, LogLevel.Warning, "opening a session failed, retrying: {Reason}")]
    public static partial void BootstrapRetrying(ILogger logger, string reason);

    [LoggerMessage(206, LogLevel.Error, "the broker refused the bootstrap token: {Reason}")]
    public static partial void BootstrapRefused(ILogger logger, string reason);

    [LoggerMessage(207, LogLevel.Information, "a pending bootstrap was superseded by a newer one")]
    public static partial void BootstrapSuperseded(ILogger logger);

    [LoggerMessage(210, LogLevel.Information, "session {SessionId} opened for workspace {WorkspaceId}; token expires {TokenExpiresAt}, revocations after {RevocationSequence}; dropped {DroppedLeases} cached leases")]
    public static partial void SessionOpened(ILogger logger, string sessionId, string workspaceId, DateTimeOffset tokenExpiresAt, long revocationSequence, int droppedLeases);

    [LoggerMessage(211, LogLevel.Information, "session {SessionId} refreshed; token expires {TokenExpiresAt}")]
    public static partial void SessionRefreshed(ILogger logger, string sessionId, DateTimeOffset tokenExpiresAt);

    [LoggerMessage(212, LogLevel.Warning, "refreshing session {SessionId} failed, will retry: {Reason}")]
    public static partial void SessionRefreshFailed(ILogger logger, string sessionId, string reason);

    [LoggerMessage(213, LogLevel.Warning, "session {SessionId} ended: {Reason}; dropped {DroppedLeases} cached leases; waiting for a new bootstrap")]
    public static partial void SessionEnded(ILogger logger, string sessionId, string reason, int droppedLeases);

    // 3xx: broker link and revocations
    [LoggerMessage(300, LogLevel.Information, "revocation stream open for workspace {WorkspaceId} after sequence {RevocationSequence}; revalidated {CheckedLeases} cached leases, dropped {DroppedLeases}")]
    public static partial void BrokerConnected(ILogger logger, string workspaceId, long revocationSequence, int checkedLeases, int droppedLeases);

    [LoggerMessage(301, LogLevel.Warning, "broker disconnected: {Reason}; serving cached leases until it is back")]
    public static partial void BrokerDisconnected(ILogger logger, string reason);

    [LoggerMessage(302, LogLevel.Information, "revocation {RevocationSequence}: lease {LeaseId} revoked, {DroppedLeases} dropped")]
    public static partial void LeaseRevoked(ILogger logger, long revocationSequence, string leaseId, int droppedLeases);

    [LoggerMessage(303, LogLevel.Information, "revocation {RevocationSequence}: credential {CredentialId} revoked, {DroppedLeases} leases dropped")]
    public static partial void CredentialRevoked(ILogger logger, long revocationSequence, string credentialId, int droppedLeases);

    [LoggerMessage(304, LogLevel.Information, "revocation {RevocationSequence} ({Kind} {TargetId}) does not concern this session")]
    public static partial void RevocationIgnored(ILogger logger, long revocationSequence, string kind, string targetId);

    [LoggerMessage(305, LogLevel.Warning, "broker call {Method} failed: {Reason}")]
    public static partial void BrokerCallFailed(ILogger logger, string method, string reason);

    // 4xx: git
    [LoggerMessage(400, LogLevel.Debug, "served lease {LeaseId} from the cache")]
    public static partial void LeaseServedFromCache(ILogger logger, string leaseId);

    [LoggerMessage(401, LogLevel.Information, "lease {LeaseId} of credential {CredentialId} issued, expires {ExpiresAt} ({Admission})")]
    public static partial void LeaseIssued(ILogger logger, string leaseId, string credentialId, DateTimeOffset expiresAt, string admission);

    [LoggerMessage(402, LogLevel.Information, "no credential for {Protocol}://{Host}")]
    public static partial void NoMatch(ILogger logger, string protocol, string host);

    [LoggerMessage(403, LogLevel.Information, "reported rejection of lease {LeaseId} (counted: {Counted})")]
    public static partial void RejectionReported(ILogger logger, string leaseId, bool counted);

    [LoggerMessage(404, LogLevel.Warning, "could not report rejection of lease {LeaseId}: {Reason}")]
    public static partial void RejectionNotReported(ILogger logger, string leaseId, string reason);

    [LoggerMessage(405, LogLevel.Warning, "git handed lease {LeaseId} to other credential helpers on {Operation}: {Helpers}; reported: {Recorded}")]
    public static partial void ForeignHelperReported(ILogger logger, string leaseId, string operation, string helpers, bool recorded);

    [LoggerMessage(406, LogLevel.Warning, "could not report other credential helpers for lease {LeaseId}: {Reason}")]
    public static partial void ForeignHelperNotReported(ILogger logger, string leaseId, string reason);

    // 5xx: AI tools
    [LoggerMessage(500, LogLevel.Information, "credential {CredentialId} reached its monthly limit of {MonthlyLimit} uses")]
    public static partial void AiLimitReached(ILogger logger, string credentialId, long monthlyLimit);

    [LoggerMessage(501, LogLevel.Information, "credential {CredentialId} is proxy-only; an inject-mode key was refused")]
    public static partial void AiProxyOnly(ILogger logger, string credentialId);

    [LoggerMessage(502, LogLevel.Information, "opened proxy {ProxyId} for pid {Pid} (tool {Tool}): {Providers}")]
    public static partial void ProxyOpened(ILogger logger, string proxyId, int pid, string tool, string providers);

    [LoggerMessage(503, LogLevel.Information, "closed proxy {ProxyId}")]
    public static partial void ProxyClosed(ILogger logger, string proxyId);

    [LoggerMessage(504, LogLevel.Warning, "refused a proxy for pid {Pid}: {Reason}")]
    public static partial void ProxyRefused(ILogger logger, int pid, string reason);
}
