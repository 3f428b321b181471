using System.Net.Http.Headers;
using System.Net.Http.Json;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.Tests.Support;

/// <summary>
/// A whole broker (real SQLite file in a temp data dir, real vault and audit chain) on the
/// in-memory test server: REST through <see cref="Admin"/>, gRPC through <see cref="GrpcChannel"/>.
/// </summary>
internal sealed class BrokerTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _ownsDataDirectory;

    private BrokerTestHost(WebApplication app, string dataDirectory, bool ownsDataDirectory, string adminKey)
    {
        _app = app;
        DataDirectory = dataDirectory;
        _ownsDataDirectory = ownsDataDirectory;
        AdminKey = adminKey;
        Admin = CreateClient(adminKey);
        GrpcChannel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = app.GetTestServer().CreateHandler() });
    }

    public string DataDirectory { get; }

    public string AdminKey { get; }

    /// <summary>REST client authenticated with the initial admin key.</summary>
    public HttpClient Admin { get; }

    public GrpcChannel GrpcChannel { get; }

    public IServiceProvider Services => _app.Services;

    internal string DatabasePath => Path.Combine(DataDirectory, "xares.db");

    public static async Task<BrokerTestHost> StartAsync(Func<BrokerOptions, BrokerOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var temporary = Directory.CreateTempSubdirectory("xares-broker-test-").FullName;
        var options = new BrokerOptions { DataDirectory = temporary };
        options = configure?.Invoke(options) ?? options;
        // A data directory the test chose is the test's to keep or remove (it may restart a broker on it).
        var ownsDataDirectory = options.DataDirectory == temporary;
        if (!ownsDataDirectory)
        {
            Directory.Delete(temporary);
        }
        var app = BrokerHost.Build(options, builder =>
        {
            builder.WebHost.UseTestServer();
            services?.Invoke(builder.Services);
        });
        await app.StartAsync();
        var adminKey = (await File.ReadAllTextAsync(options.InitialAdminKeyPath)).Trim();
        return new BrokerTestHost(app, options.DataDirectory, ownsDataDirectory, adminKey);
    }

    public HttpClient CreateClient(string? apiKey)
    {
        var client = _app.GetTestClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
        return client;
    }

    public T Get<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>Creates a user through REST and returns its id.</summary>
    public async Task<string> CreateUserAsync(string name = "alice")
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/users", new { name, email = $"{name}@example.test" });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<IdBody>();
        return body!.Id;
    }

    /// <summary>Creates a git credential through REST and returns its id.</summary>
    public async Task<string> CreateGitCredentialAsync(string userId, string url, string username, string secret, string provider = "generic")
    {
        var response = await Admin.PostAsJsonAsync($"/api/v1/users/{userId}/credentials", new { kind = "git", provider, url, username, secret });
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating a credential failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        return (await response.Content.ReadFromJsonAsync<IdBody>())!.Id;
    }

    public async ValueTask DisposeAsync()
    {
        GrpcChannel.Dispose();
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
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
            // Best effort: a temp dir left behind is harmless.
        }
    }

    private sealed record IdBody(string Id);
}
