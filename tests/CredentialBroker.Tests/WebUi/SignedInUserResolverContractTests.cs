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
        Assert.Equal(UiRefusal.NoUser, refusal!.Code);
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
        Assert.Equal(UiRefusal.NoEmail, refusal!.Code);
        Assert.Contains("\"upn\"", refusal.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_EmailMode_UserLinkedToASubject_OnlyThatSubjectSignsIn()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var linked = await CreateUserAsync(broker, new { name = "Ann", email = "ann@example.test", oidcSubject = "ann-sub" });
        var byEmail = Resolver(broker, Settings with { CreateUsers = true });

        var (ann, annRefusal) = await byEmail.ResolveAsync(IdToken("ann-sub", ("email", "ann@example.test")), null);
        // The address was reassigned to another account at the provider.
        var (other, otherRefusal) = await byEmail.ResolveAsync(IdToken("new-holder-sub", ("email", "ann@example.test")), null);

        Assert.Null(annRefusal);
        Assert.Equal(linked.Id, ann!.UserId);
        Assert.Null(other);
        Assert.Equal(UiRefusal.SubjectMismatch, otherRefusal!.Code);
        Assert.Equal(1, await broker.Get<Database>().ReadAsync(c => UserStore.ListAfter(c, null, ListingPosition.Start, 10).Count));
    }

    [Fact]
    public async Task Resolve_SubjectMode_FindsTheUserByStoredSubject_NotByEmail()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var linked = await CreateUserAsync(broker, new { name = "Ann", email = "ann@old.example.test", oidcSubject = "ann-sub" });
        // Has the address the provider now sends, but no subject: in subject mode that links nobody, even with user creation on.
        await CreateUserAsync(broker, new { name = "Bob", email = "reassigned@example.test" });
        var bySubject = Resolver(broker, Settings with { UserMatch = UiUserMatch.Subject, CreateUsers = true });

        var (ann, annRefusal) = await bySubject.ResolveAsync(IdToken("ann-sub", ("email", "someone.else@example.test")), null);
        var (bob, bobRefusal) = await bySubject.ResolveAsync(IdToken("bob-sub", ("email", "Reassigned@example.test")), null);
        var (caseVariant, caseRefusal) = await Resolver(broker, Settings with { UserMatch = UiUserMatch.Subject }).ResolveAsync(IdToken("ANN-SUB"), null);

        Assert.Null(annRefusal);
        Assert.Equal(linked.Id, ann!.UserId);
        Assert.Null(bob);
        Assert.Equal(UiRefusal.EmailTaken, bobRefusal!.Code);
        Assert.Null(caseVariant); // subjects compare exactly
        Assert.Equal(UiRefusal.NotLinked, caseRefusal!.Code);
        Assert.Equal(2, await broker.Get<Database>().ReadAsync(c => UserStore.ListAfter(c, null, ListingPosition.Start, 10).Count));
    }

    [Fact]
    public async Task Resolve_SubjectModeWithCreateUsers_CreatesTheUserWithItsSubjectOnce()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        var creating = Resolver(broker, Settings with { UserMatch = UiUserMatch.Subject, CreateUsers = true });
        var idToken = IdToken("new-sub", ("email", "new@example.test"), ("name", "New Person"));

        var (first, refusal) = await creating.ResolveAsync(idToken, "10.0.0.9");
        var (again, _) = await creating.ResolveAsync(IdToken("new-sub", ("email", "changed@example.test")), null);

        Assert.Null(refusal);
        Assert.Equal(first, again);
        var stored = await broker.Get<Database>().ReadAsync(c => UserStore.Find(c, null, first!.UserId));
        Assert.Equal(("New Person", "new@example.test", "new-sub"), (stored!.Name, stored.Email, stored.OidcSubject));
        var record = Assert.Single(await broker.Get<Database>().ReadAsync(c => new AuditQuery(first!.UserId, null, null, AuditActions.UserCreate, null, 10).Run(c).Records));
        Assert.Equal("oidc:login.example.test", record.Actor);
        Assert.Contains("OIDC subject", record.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_SubjectModeWithCreateUsers_NoEmailClaim_CreatesTheUserWithoutEmail()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });

        var (account, refusal) = await Resolver(broker, Settings with { UserMatch = UiUserMatch.Subject, CreateUsers = true }).ResolveAsync(IdToken("bare-sub"), null);

        Assert.Null(refusal);
        var stored = await broker.Get<Database>().ReadAsync(c => UserStore.Find(c, null, account!.UserId));
        Assert.Equal(("bare-sub", null, "bare-sub"), (stored!.Name, stored.Email, stored.OidcSubject));
    }

    [Fact]
    public async Task Resolve_SubjectMode_UnknownSubjectWithoutCreateUsers_OrNoSubject_Refused()
    {
        await using var db = await ContractDatabase.CreateAsync(backend, migrate: false);
        await using var broker = await BrokerTestHost.StartAsync(o => o with { DataDirectory = db.Directory, Database = db.ConnectionString });
        await CreateUserAsync(broker, new { name = "Ann", email = "ann@example.test" });
        var bySubject = Resolver(broker, Settings with { UserMatch = UiUserMatch.Subject });

        var (unknown, unknownRefusal) = await bySubject.ResolveAsync(IdToken("ann-sub", ("email", "ann@example.test")), null);
        var (blank, blankRefusal) = await bySubject.ResolveAsync(IdToken(" ", ("email", "ann@example.test")), null);

        Assert.Null(unknown);
        Assert.Equal(UiRefusal.NotLinked, unknownRefusal!.Code);
        Assert.Null(blank);
        Assert.Equal(UiRefusal.NoSubject, blankRefusal!.Code);
    }

    private static async Task<UserRecord> CreateUserAsync(BrokerTestHost broker, object body)
    {
        var response = await broker.Admin.PostAsJsonAsync("/api/v1/users", body);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<UserRecord>())!;
    }

    private static ClaimsPrincipal IdToken(string subject, params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)).Append(new Claim("sub", subject)), "oidc"));

    private static SignedInUserResolver Resolver(BrokerTestHost broker, WebUiSettings settings) =>
        new(settings, broker.Get<Database>(), broker.Get<WriteQueue>(), broker.Get<AuditChain>(), TimeProvider.System);

    private static ClaimsPrincipal IdToken(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)).Append(new Claim("sub", "s-1")), "oidc"));
}

public sealed class SqliteSignedInUserResolverContractTests() : SignedInUserResolverContractTests(new SqliteBackend());

public sealed class PostgresSignedInUserResolverContractTests() : SignedInUserResolverContractTests(new PostgresBackend());
