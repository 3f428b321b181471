using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Xares.Broker.Hosting;

namespace Xares.Broker.Tests.RateLimiting;

/// <summary>
/// A whole broker on real Kestrel sockets on 127.0.0.1, so client addresses are real TCP peers.
/// Clients can connect from another loopback address (127.0.0.2, …) to act as another machine.
/// </summary>
internal sealed class KestrelBroker : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;

    private KestrelBroker(WebApplication app, string dataDirectory, string restUrl, string adminKey)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        RestUrl = restUrl;
        AdminKey = adminKey;
    }

    public string RestUrl { get; }

    public string AdminKey { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<KestrelBroker> StartAsync(Func<BrokerOptions, BrokerOptions> configure)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("xares-ratelimit-").FullName;
        var restUrl = $"http://127.0.0.1:{FreePort()}";
        var options = configure(new BrokerOptions { DataDirectory = dataDirectory, RestUrl = restUrl, GrpcUrl = $"http://127.0.0.1:{FreePort()}" });
        var app = BrokerHost.Build(options);
        await app.StartAsync();
        var adminKey = (await File.ReadAllTextAsync(options.InitialAdminKeyPath)).Trim();
        return new KestrelBroker(app, dataDirectory, restUrl, adminKey);
    }

    /// <summary>A REST client whose connections come from <paramref name="sourceAddress"/>.</summary>
    public HttpClient Client(string sourceAddress, string? apiKey)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(sourceAddress), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri(RestUrl) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp dir left behind is harmless.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
