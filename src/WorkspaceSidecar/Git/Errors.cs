using Xares.Protos.Sidecar.V1;

namespace Xares.Sidecar.Git;

/// <summary>The ErrorResponse codes local clients can rely on (local.proto).</summary>
internal static class Errors
{
    public const string BrokerUnavailableCode = "broker_unavailable";
    public const string NotBootstrappedCode = "not_bootstrapped";
    public const string BadRequestCode = "bad_request";
    public const string InternalCode = "internal";
    public const string NoCredentialCode = "no_credential";
    public const string LimitReachedCode = "limit_reached";
    public const string ProxyOnlyCode = "proxy_only";

    public static SidecarResponse BrokerUnavailable(string? detail) => Error(
        BrokerUnavailableCode,
        detail is null ? "the Xares broker is unreachable and no cached credential matches" : $"the Xares broker is unreachable and no cached credential matches ({detail})");

    public static SidecarResponse NotBootstrapped() => Error(
        NotBootstrappedCode, "the Xares sidecar has no broker session yet; it needs a bootstrap token");

    public static SidecarResponse BadRequest(string message) => Error(BadRequestCode, message);

    public static SidecarResponse Internal(string message) => Error(InternalCode, message);

    public static SidecarResponse NoCredential(string message) => Error(NoCredentialCode, message);

    public static SidecarResponse LimitReached(string message) => Error(LimitReachedCode, message);

    public static SidecarResponse ProxyOnly(string message) => Error(ProxyOnlyCode, message);

    private static SidecarResponse Error(string code, string message) =>
        new() { Error = new ErrorResponse { Code = code, Message = message } };
}
