namespace Xares.Broker.Connections;

/// <summary>Audit actions of OAuth providers and connections. Details name providers, connections and outcomes, never a token or secret.</summary>
internal static class ConnectionAuditActions
{
    public const string ProviderRegister = "oauth_provider.register";
    public const string ProviderDelete = "oauth_provider.delete";

    /// <summary>A device authorization grant was started (success) or the provider refused to start one (failure).</summary>
    public const string DeviceStart = "connection.device_start";

    /// <summary>The device grant ended: tokens stored (success), the user refused (denied), or the code expired or failed (failure).</summary>
    public const string Connect = "connection.connect";

    /// <summary>A refresh stored a new token pair (success) or failed transiently and backs off (failure).</summary>
    public const string Refresh = "connection.refresh";

    /// <summary>The provider refused the refresh token for good (invalid_grant): refreshing stops until the user connects again.</summary>
    public const string ReconnectRequired = "connection.reconnect_required";

    public const string Disconnect = "connection.disconnect";

    /// <summary>A disconnected token was revoked at the provider (success) or an attempt failed and will be retried (failure).</summary>
    public const string UpstreamRevoke = "connection.token_revoke";

    /// <summary>Flag kind raised when a connection needs reconnecting.</summary>
    public const string ReconnectRequiredFlag = "reconnect_required";
}
