using System.Net.Http.Json;
using System.Security.Claims;
using Xares.Broker.Api;
using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Storage;
using Xares.Broker.Tests.Support;
using Xares.Broker.Users;
using Xares.Broker.WebUi;

namespace Xares.Broker.Tests.WebUi;

/// <summary>From the identity provider's claims to a broker user, on SQLite and PostgreSQL.</summary>
public abstract class SignedInUserResolverContractTests(StorageBackend backend)
{
    private static readonly WebUiSettings Settings = new()
    {
        Issuer = new Uri("https://login.example.test"), ClientId = "xares", ClientSecret = "s", AdminClaim = "groups=xares-admins",
    };

    [Fact]
    public async Task Resolve_EmailMatchedWithoutCase_AdminByGroup_SessionCarriesTheBoundCaller()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var created = await broker.Admin.PostAsJsonAsync("/api/v1/users", new { name = "Ann", email = "Ann@Example.test" });
        var annId = (await created.Content.ReadFromJsonAsync<UserRecord>())!.Id;
        var resolver = Resolver(broker, Settings);

        var (account, refusal) = await resolver.ResolveAsync(IdToken(("email", "ann@example.TEST"), ("groups", "dev"), ("groups", "xares-admins")), "127.0.0.1");

        Assert.Null(refusal);
        Assert.Equal(new UiAccount(annId, "Ann", true), account);
        var caller = Caller.From(resolver.SessionPrincipal(account!));
        Assert.Equal(annId, caller.BoundUserId);
        Assert.Equal($"web-ui:{annId}", caller.Actor);
        Assert.True(caller.Has("credentials:write"));
        Assert.False(caller.Has("users:write")); // an admin's session still reaches only its own things through these services
    }

    [Fact]
    public async Task Resolve_UnknownEmail_RefusedUnlessCreateUsers_ThenCreatedOnceAndAudited()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var idToken = IdToken(("email", "new@example.test"), ("name", "New Person"), ("groups", "dev"));

        var (none, refusal) = await Resolver(broker, Settings).ResolveAsync(idToken, null);
        var creating = Resolver(broker, Settings with { CreateUsers = true });
        var (first, _) = await creating.ResolveAsync(idToken, "10.0.0.9");
        var (again, _) = await creating.ResolveAsync(idToken, "10.0.0.9");

        Assert.Null(none);
        Assert.Contains("No broker user", refusal, StringComparison.Ordinal);
        Assert.NotNull(first);
        Assert.Equal("New Person", first.DisplayName);
        Assert.False(first.IsAdmin);
        Assert.Equal(first, again);
        var records = await broker.Get<Database>().ReadAsync(c => new AuditQuery(first.UserId, null, null, AuditActions.UserCreate, null, 10).Run(c).Records);
        var record = Assert.Single(records);
        Assert.Equal("oidc:login.example.test", record.Actor);
    }

    [Fact]
    public async Task Resolve_NoEmailInTheConfiguredClaim_Refused()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });

        var (account, refusal) = await Resolver(broker, Settings with { UserClaim = "upn", CreateUsers = true }).ResolveAsync(IdToken(("email", "a@example.test")), null);

        Assert.Null(account);
        Assert.Contains("\"upn\"", refusal, StringComparison.Ordinal);
    }

    private static SignedInUserResolver Resolver(BrokerTestHost broker, WebUiSettings settings) =>
        new(settings, broker.Get<Database>(), broker.Get<WriteQueue>(), broker.Get<AuditChain>(), TimeProvider.System);

    private static ClaimsPrincipal IdToken(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)).Append(new Claim("sub", "s-1")), "oidc"));
}

public sealed class SqliteSignedInUserResolverContractTests() : SignedInUserResolverContractTests(new SqliteBackend());

public sealed class PostgresSignedInUserResolverContractTests() : SignedInUserResolverContractTests(new PostgresBackend());
