using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Security;
using Xares.Broker.Storage;

namespace Xares.Broker.Connections;

/// <summary>Who is connecting in the web UI: the session (its random id, never shown), the user, and the audit actor.</summary>
internal sealed record UiConnector(string SessionId, string UserId, string Actor, string? RemoteAddress)
{
    public override string ToString() => $"{nameof(UiConnector)} {{ UserId = {UserId}, SessionId = [redacted] }}";
}

/// <summary>How a callback ended: the connection now active, or why nothing was connected (text for the page; never a code or token).</summary>
internal sealed record RedirectGrantOutcome(string? ConnectionId, string? Problem);

/// <summary>
/// Connecting an account from the browser: the authorization code grant with PKCE (S256), its
/// state bound to the web UI session that started it (<see cref="AuthorizationRequestStore"/>).
/// The code is exchanged at the token endpoint by the broker; the tokens are stored exactly as a
/// device grant's are (<see cref="ConnectionLifecycle.StoreGranted"/>). Reconnecting a
/// reconnect_required connection runs the same grant and replaces that row's tokens.
/// </summary>
internal sealed class RedirectGrantFlow(Database database, WriteQueue writes, AuditChain audit, OAuthProviderRegistry providers, OAuthClient oauth,
    ConnectionLifecycle lifecycle, AuthorizationRequestStore requests, TimeProvider time, ILogger<RedirectGrantFlow> logger)
{
    /// <summary>The provider's authorize URL for a new grant (or a reconnect of <paramref name="reconnectId"/>), with this grant's state and code challenge.</summary>
    public async Task<Uri> StartAsync(UiConnector who, string? providerId, string? reconnectId, string redirectUri)
    {
        var (provider, reconnect) = await database.ReadAsync(c =>
        {
            var existing = reconnectId is null ? null : ConnectionStore.Find(c, null, reconnectId);
            return (OAuthProviderStore.Find(c, null, existing?.ProviderId ?? providerId ?? ""), existing);
        });
        if (reconnectId is not null && (reconnect is null || reconnect.UserId != who.UserId))
        {
            throw new NotFoundException("The connection");
        }
        if (reconnect is not null && reconnect.Status != ConnectionStatus.ReconnectRequired)
        {
            throw new ValidationException($"Connection {reconnect.Id} is {reconnect.Status}: only a connection that needs reconnecting is reconnected.");
        }
        if (provider is null)
        {
            throw new NotFoundException("The OAuth provider");
        }
        if (provider.AuthorizeUrl is null)
        {
            throw new ValidationException($"OAuth provider {provider.Name} has no authorizeUrl: connect it from a workspace (xares-sidecar connect {provider.Name}).");
        }
        var pending = await requests.BeginAsync(who.SessionId, who.UserId, provider.Id, reconnect?.Id, redirectUri);
        var query = new Dictionary<string, string>
        {
            ["response_type"] = "code", ["client_id"] = provider.ClientId, ["redirect_uri"] = redirectUri, ["state"] = pending.State,
            ["code_challenge"] = AuthorizationRequestStore.ChallengeOf(pending.CodeVerifier), ["code_challenge_method"] = "S256",
        };
        if (provider.Scopes.Length > 0)
        {
            query["scope"] = provider.Scopes;
        }
        var separator = provider.AuthorizeUrl.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        return new Uri(provider.AuthorizeUrl + separator + string.Join('&', query.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value))));
    }

    /// <summary>The provider sent the browser back: check the state against this session, exchange the code, store the tokens.</summary>
    public async Task<RedirectGrantOutcome> CompleteAsync(UiConnector who, string? state, string? code, string? error, CancellationToken cancellationToken)
    {
        var (pending, refusal) = await requests.TakeAsync(state, who.SessionId, who.UserId);
        if (pending is null)
        {
            var problem = refusal switch
            {
                AuthorizationRefusal.Expired => "The answer came more than 10 minutes after connecting started. Nothing was connected; start again.",
                AuthorizationRefusal.OtherSession =>
                    "This answer belongs to a connection started by another sign-in, so nothing was connected to your account. Connect from your own Connections page.",
                _ => "This answer is unknown or was used already. Nothing was connected; start again.",
            };
            ConnectionLog.CallbackRefused(logger, who.UserId, refusal.ToString());
            if (refusal == AuthorizationRefusal.OtherSession)
            {
                await AuditFailureAsync(who, null, AuditOutcomes.Denied, "callback refused: the authorization was started by another web UI session; nothing stored");
            }
            return new RedirectGrantOutcome(null, problem);
        }
        var provider = await database.ReadAsync(c => OAuthProviderStore.Find(c, null, pending.ProviderId));
        if (provider is null)
        {
            return new RedirectGrantOutcome(null, "The OAuth provider was removed while you were connecting. Nothing was connected.");
        }
        if (error is not null || string.IsNullOrEmpty(code))
        {
            var said = error is null ? "no authorization code" : OAuthClient.Safe(error);
            await AuditFailureAsync(who, pending.ReconnectId, error == "access_denied" ? AuditOutcomes.Denied : AuditOutcomes.Failure,
                $"{provider.Name}: the provider answered {said}; nothing stored");
            return new RedirectGrantOutcome(null, error == "access_denied"
                ? $"Access was not granted at {provider.Name} (access_denied). Nothing was connected."
                : $"{provider.Name} answered {said}. Nothing was connected.");
        }
        var answer = await oauth.ExchangeCodeAsync(provider, providers.OpenSecret(provider), code, pending.CodeVerifier, pending.RedirectUri, cancellationToken);
        if (answer.Tokens is not { } tokens)
        {
            await AuditFailureAsync(who, pending.ReconnectId, AuditOutcomes.Failure, $"{provider.Name}: {answer.Problem}; nothing stored");
            return new RedirectGrantOutcome(null, $"{provider.Name} did not exchange the authorization code: {answer.Problem}. Nothing was connected.");
        }
        var id = await writes.ExecuteAsync((c, t) => Store(c, t, who, pending, provider, tokens, answer.ExpiresIn));
        ConnectionLog.ConnectedByRedirect(logger, id, provider.Id);
        return new RedirectGrantOutcome(id, null);
    }

    private string Store(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction t, UiConnector who, PendingAuthorization pending,
        OAuthProviderRecord provider, TokenPair tokens, TimeSpan? expiresIn)
    {
        var now = time.GetUtcNow();
        // Reconnect replaces the tokens of that row, if it still needs reconnecting; otherwise (it was
        // disconnected meanwhile, say) the grant becomes a new connection, which replaces any other.
        if (pending.ReconnectId is { } reconnectId && ConnectionStore.Find(c, t, reconnectId) is { Status: ConnectionStatus.ReconnectRequired } row
            && row.UserId == who.UserId && lifecycle.StoreGranted(c, t, row, ConnectionStatus.ReconnectRequired, provider, tokens, expiresIn, who.Actor,
                who.RemoteAddress, now))
        {
            return row.Id;
        }
        var id = OpaqueToken.NewId(ConnectionRecord.IdPrefix);
        ConnectionStore.InsertForGrant(c, t, id, provider.Id, who.UserId, now);
        var created = ConnectionStore.Find(c, t, id)!;
        lifecycle.StoreGranted(c, t, created, ConnectionStatus.Pending, provider, tokens, expiresIn, who.Actor, who.RemoteAddress, now);
        return id;
    }

    private Task AuditFailureAsync(UiConnector who, string? connectionId, string outcome, string detail) =>
        writes.ExecuteAsync((c, t) => audit.Append(c, t, new AuditEntry(ConnectionAuditActions.Connect, outcome)
        {
            Actor = who.Actor, UserId = who.UserId, CredentialId = connectionId, RemoteAddress = who.RemoteAddress, Detail = detail,
        }));
}
