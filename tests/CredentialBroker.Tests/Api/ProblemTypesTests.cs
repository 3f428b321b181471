using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xares.Broker.Api;
using Xares.Broker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xares.DevKit;

namespace Xares.Broker.Tests.Api;

public sealed partial class ProblemTypesTests
{
    // Slugs that the idempotency and ETag features answer with (written by their own code).
    private static readonly string[] PreconditionSlugs =
        ["idempotency-key-mismatch", "idempotency-key-in-use", "idempotency-replay-expired", "precondition-failed", "invalid-idempotency-key"];

    [Fact]
    public void ErrorsPage_HasASectionForEverySlugTheBrokerWrites()
    {
        var sections = Sections(File.ReadAllText(Path.Combine(Artifacts.RepositoryRoot, "docs", "errors.md")));
        var used = SlugsInSource();

        Assert.Superset(new HashSet<string>(["not-found", "validation", "unauthorized", "too-many-failures", "bad-request", "internal"]), used);
        Assert.All(used.Concat(PreconditionSlugs), slug => Assert.True(sections.Contains(slug), $"docs/errors.md has no \"## {slug}\" section"));
    }

    [Fact]
    public async Task ErrorsPage_ServedByTheBrokerWithAnAnchorPerSlug()
    {
        await using var host = await BrokerTestHost.StartAsync();
        using var anonymous = host.CreateClient(null);

        using var response = await anonymous.GetAsync(ProblemTypes.PagePath);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.All(Sections(ProblemTypes.Markdown()), slug => Assert.Contains($"id=\"{slug}\"", html, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DefaultBase_ResolvesAgainstTheBrokerToItsErrorsPage()
    {
        await using var host = await BrokerTestHost.StartAsync();

        using var problem = JsonDocument.Parse(await (await host.Admin.GetAsync("/api/v1/users/usr_missing")).Content.ReadAsStringAsync());
        var type = problem.RootElement.GetProperty("type").GetString()!;
        var page = new Uri(host.Admin.BaseAddress!, type);

        Assert.Equal("/docs/errors#not-found", type);
        Assert.Equal(HttpStatusCode.OK, (await host.Admin.GetAsync(page)).StatusCode);
    }

    [Fact]
    public async Task ConfiguredBase_ReplacesTheDefaultInEveryProblem()
    {
        const string typeBase = "https://docs.example.com/xares/errors#";
        await using var host = await BrokerTestHost.StartAsync(o => o with { ProblemTypeBase = typeBase });
        using var anonymous = host.CreateClient(null);

        var notFound = await (await host.Admin.GetAsync("/api/v1/users/usr_missing")).Content.ReadAsStringAsync();
        var unauthorized = await (await anonymous.GetAsync("/api/v1/users")).Content.ReadAsStringAsync();

        Assert.Equal(typeBase + "not-found", JsonDocument.Parse(notFound).RootElement.GetProperty("type").GetString());
        Assert.Equal(typeBase + "unauthorized", JsonDocument.Parse(unauthorized).RootElement.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("/docs/errors#", true)]
    [InlineData("https://docs.example.com/xares/errors.md#", true)]
    [InlineData("http://wiki.internal/xares/", true)]
    [InlineData("docs/errors#", false)]
    [InlineData("//evil.example/", false)]
    [InlineData("ftp://docs.example.com/", false)]
    [InlineData("https://docs.example.com/a b#", false)]
    public void Problem_OnlyAbsoluteHttpOrRootedBases(string typeBase, bool valid) =>
        Assert.Equal(valid, ProblemTypes.Problem(typeBase) is null);

    [Fact]
    public void InvalidBase_StopsTheStartNamingTheOption()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddProblemTypes("errors#"));

        Assert.Contains("--problem-type-base errors#", error.Message, StringComparison.Ordinal);
    }

    private static HashSet<string> Sections(string markdown) =>
        SectionHeading().Matches(markdown).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Slug literals on the lines of the broker's source that build a problem type: `ProblemType =>
    /// "slug"`, `TypeBase + "slug"`, `WriteProblemAsync(…, "slug", …)`.
    /// </summary>
    private static HashSet<string> SlugsInSource() =>
        Directory.EnumerateFiles(Path.Combine(Artifacts.RepositoryRoot, "src", "CredentialBroker"), "*.cs", SearchOption.AllDirectories)
            .SelectMany(File.ReadLines)
            .Where(line => line.Contains("TypeBase", StringComparison.Ordinal) || line.Contains("ProblemType", StringComparison.Ordinal)
                || line.Contains("ProblemAsync(", StringComparison.Ordinal))
            .SelectMany(line => SlugLiteral().Matches(line).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^## ([a-z0-9-]+)\s*$", RegexOptions.Multiline)]
    private static partial Regex SectionHeading();

    [GeneratedRegex(@"""([a-z][a-z0-9]*(?:-[a-z0-9]+)*)""")]
    private static partial Regex SlugLiteral();
}
