using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Xares.Broker.Hosting;
using Xares.DevKit;

namespace Xares.Broker.Tests.Support;

/// <summary>
/// A whole broker on real loopback sockets (Kestrel, REST and gRPC), so the remote addresses the
/// audit log and the rate limits see are real: clients can connect from 127.0.0.1, 127.0.0.2, … (all
/// loopback on Linux), each acting as another machine.
/// </summary>
internal sealed class SocketBroker : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<IDisposable> _clients = [];

    private readonly bool _ownsDataDirectory;

    private SocketBroker(WebApplication app, BrokerOptions options, string adminKey, bool ownsDataDirectory)
    {
        _app = app;
        _ownsDataDirectory = ownsDataDirectory;
        Options = options;
        AdminKey = adminKey;
    }

    public BrokerOptions Options { get; }

    public string AdminKey { get; }

    public string DataDirectory => Options.DataDirectory;

    public static async Task<SocketBroker> StartAsync(Func<BrokerOptions, BrokerOptions> configure, Action<IServiceCollection>? services = null)
    {
        var directory = Directory.CreateTempSubdirectory("xares-socket-broker-").FullName;
        var options = configure(new BrokerOptions
        {
            DataDirectory = directory,
            RestUrl = $"http://127.0.0.1:{FreePort.Next()}",
            GrpcUrl = $"http://127.0.0.1:{FreePort.Next()}",
        });
        // A data directory the test chose is the test's to keep or remove.
        var ownsDataDirectory = options.DataDirectory == directory;
        if (!ownsDataDirectory)
        {
            Directory.Delete(directory);
        }
        var app = BrokerHost.Build(options, builder => services?.Invoke(builder.Services));
        await app.StartAsync();
        var adminKey = (await File.ReadAllTextAsync(options.InitialAdminKeyPath)).Trim();
        return new SocketBroker(app, options, adminKey, ownsDataDirectory);
    }

    public T Get<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>A REST client whose connections come from <paramref name="from"/> (a loopback address).</summary>
    public HttpClient Rest(string? apiKey, string from = "127.0.0.1")
    {
        var client = new HttpClient(Handler(from)) { BaseAddress = new Uri(Options.RestUrl) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
        _clients.Add(client);
        return client;
    }

    /// <summary>A gRPC channel (HTTP/2 cleartext) whose connections come from <paramref name="from"/>.</summary>
    public GrpcChannel Grpc(string from = "127.0.0.1")
    {
        var channel = GrpcChannel.ForAddress(Options.GrpcUrl, new GrpcChannelOptions { HttpHandler = Handler(from) });
        _clients.Add(channel);
        return channel;
    }

    public async Task<string> CreateUserAsync(string name)
    {
        var response = await Rest(AdminKey).PostAsJsonAsync("/api/v1/users", new { name });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Created>())!.Id;
    }

    public async Task StopAsync() => await _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (!_ownsDataDirectory)
        {
            return;
        }
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A temp dir left behind is harmless.
        }
    }

    private static SocketsHttpHandler Handler(string from) => new()
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
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

    private sealed record Created(string Id);
}
