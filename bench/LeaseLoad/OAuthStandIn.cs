using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

/// <summary>
/// The least of an OAuth 2.0 provider the broker's connections need, for the bench only: a device
/// authorization endpoint (POST /device) whose grant is approved at once, and a token endpoint
/// (POST /token) answering the device_code and refresh_token grants with a fresh one-hour pair.
/// Every answer waits <see cref="Latency"/>. The end-to-end tests use a certified server instead.
/// </summary>
internal sealed class OAuthStandIn : IAsyncDisposable
{
    private WebApplication? _app;
    private int _tokenCalls;

    public string Origin { get; private set; } = "";

    public TimeSpan Latency { get; init; }

    /// <summary>POSTs to the token endpoint so far (the first is the device grant, any later one a refresh).</summary>
    public int TokenCalls => Volatile.Read(ref _tokenCalls);

    public static async Task<OAuthStandIn> StartAsync(TimeSpan latency)
    {
        var standIn = new OAuthStandIn { Latency = latency };
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(standIn.HandleAsync);
        await app.StartAsync();
        standIn._app = app;
        standIn.Origin = app.Urls.First().TrimEnd('/');
        return standIn;
    }

    private async Task HandleAsync(HttpContext context)
    {
        await Task.Delay(Latency, context.RequestAborted);
        switch (context.Request.Path.Value)
        {
            case "/device" when HttpMethods.IsPost(context.Request.Method):
                await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
                {
                    ["device_code"] = "bench-device-code", ["user_code"] = "BENCH-0001", ["verification_uri"] = Origin + "/activate",
                    ["expires_in"] = 600, ["interval"] = 1,
                });
                return;
            case "/token" when HttpMethods.IsPost(context.Request.Method):
                Interlocked.Increment(ref _tokenCalls);
                await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
                {
                    ["access_token"] = "bench_at_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)),
                    ["refresh_token"] = "bench_rt_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)),
                    ["token_type"] = "bearer", ["expires_in"] = 3600,
                });
                return;
            default:
                context.Response.StatusCode = 404;
                return;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
