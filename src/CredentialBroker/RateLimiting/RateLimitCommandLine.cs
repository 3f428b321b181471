using System.CommandLine;
using Xares.Broker.Hosting;

namespace Xares.Broker.RateLimiting;

/// <summary>The `serve` options of rate limiting, each also read from an XARES_* variable.</summary>
internal static class RateLimitCommandLine
{
    private static readonly Option<string[]> TrustedProxy = new("--trusted-proxy")
    {
        Description = "IP or CIDR of a proxy whose X-Forwarded-For is believed; repeat or comma-separate (env XARES_TRUSTED_PROXIES).",
    };
    private static readonly Option<int?> AuthFailureLimit = new("--auth-failure-limit")
    {
        Description = "Failed REST authentications per window, per key and client address, before 429 (env XARES_AUTH_FAILURE_LIMIT, default 10).",
    };
    private static readonly Option<int?> AuthFailureAddressLimit = new("--auth-failure-address-limit")
    {
        Description = "Failed REST authentications per window from one client address, before 429 (env XARES_AUTH_FAILURE_ADDRESS_LIMIT, default 50).",
    };
    private static readonly Option<int?> AuthFailureWindow = new("--auth-failure-window-seconds")
    {
        Description = "The window of the failed-authentication limits (env XARES_AUTH_FAILURE_WINDOW_SECONDS, default 60).",
    };
    private static readonly Option<int?> SessionRate = new("--session-rate")
    {
        Description = "gRPC calls per second per sidecar session; 0 turns the limit off (env XARES_SESSION_RATE, default 100).",
    };
    private static readonly Option<int?> SessionBurst = new("--session-burst")
    {
        Description = "gRPC calls a sidecar session may make at once (env XARES_SESSION_BURST, default 200).",
    };

    private static readonly Option<int?> ConnectConcurrency = new("--connect-concurrency")
    {
        Description = "Session opens, revocation streams and lease revalidations set up at once before more are shed with a retry hint (env XARES_CONNECT_CONCURRENCY, default 128).",
    };
    private static readonly Option<int?> ConnectRate = new("--connect-rate")
    {
        Description = "Session opens and revocation stream opens admitted per second across all sidecars; 0 turns the rate off (env XARES_CONNECT_RATE, default 1000).",
    };

    public static IEnumerable<Option> Options => [TrustedProxy, AuthFailureLimit, AuthFailureAddressLimit, AuthFailureWindow, SessionRate, SessionBurst, ConnectConcurrency, ConnectRate];

    public static BrokerOptions Read(ParseResult parse, BrokerOptions options)
    {
        var proxies = parse.GetValue(TrustedProxy) is { Length: > 0 } listed ? listed : OptionValues.Env("XARES_TRUSTED_PROXIES") is { } env ? [env] : [];
        var read = options with
        {
            TrustedProxies = [.. proxies.SelectMany(p => p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
            AuthFailureLimit = OptionValues.WholeNumber(parse, AuthFailureLimit, "XARES_AUTH_FAILURE_LIMIT", 1) ?? options.AuthFailureLimit,
            AuthFailureAddressLimit = OptionValues.WholeNumber(parse, AuthFailureAddressLimit, "XARES_AUTH_FAILURE_ADDRESS_LIMIT", 1) ?? options.AuthFailureAddressLimit,
            AuthFailureWindow = OptionValues.WholeNumber(parse, AuthFailureWindow, "XARES_AUTH_FAILURE_WINDOW_SECONDS", 1) is { } seconds ? TimeSpan.FromSeconds(seconds) : options.AuthFailureWindow,
            SessionRate = OptionValues.WholeNumber(parse, SessionRate, "XARES_SESSION_RATE", 0) ?? options.SessionRate,
            SessionBurst = OptionValues.WholeNumber(parse, SessionBurst, "XARES_SESSION_BURST", 1) ?? options.SessionBurst,
            ConnectConcurrency = OptionValues.WholeNumber(parse, ConnectConcurrency, "XARES_CONNECT_CONCURRENCY", 1) ?? options.ConnectConcurrency,
            ConnectRate = OptionValues.WholeNumber(parse, ConnectRate, "XARES_CONNECT_RATE", 0) ?? options.ConnectRate,
        };
        TrustedProxies.Parse(read.TrustedProxies); // a bad entry stops the start here, with the option's name
        return read;
    }
}
