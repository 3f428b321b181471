using Markdig;

namespace Xares.Broker.Api;

/// <summary>
/// Where problem+json `type` URIs point. Every type is a base followed by a slug, and every slug
/// is a section of docs/errors.md (anchor = slug), which the broker serves as a page at
/// <see cref="PagePath"/>. Code writes types against <see cref="DefaultBase"/> (a relative
/// reference to that page); a configured base (--problem-type-base, e.g. the docs in a repository
/// or an intranet wiki) replaces it as each problem is written.
/// </summary>
internal static class ProblemTypes
{
    public const string PagePath = "/docs/errors";
    public const string DefaultBase = PagePath + "#";

    /// <summary>Why <paramref name="typeBase"/> cannot be a base, or null: an absolute http(s) URI or a rooted path, to which slugs are appended.</summary>
    public static string? Problem(string typeBase) =>
        typeBase.Any(char.IsWhiteSpace) || typeBase.Contains('"', StringComparison.Ordinal)
            ? "it must not contain spaces or quotes"
            : typeBase.StartsWith('/') && !typeBase.StartsWith("//", StringComparison.Ordinal)
              || Uri.TryCreate(typeBase, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
                ? null
                : "it must be an absolute http(s) URI or a path starting with /";

    public static IServiceCollection AddProblemTypes(this IServiceCollection services, string typeBase)
    {
        if (Problem(typeBase) is { } problem)
        {
            throw new InvalidOperationException($"--problem-type-base {typeBase}: {problem}.");
        }
        return typeBase == DefaultBase ? services : services.Configure<ProblemDetailsOptions>(problems =>
        {
            var previous = problems.CustomizeProblemDetails;
            problems.CustomizeProblemDetails = context =>
            {
                previous?.Invoke(context);
                if (context.ProblemDetails.Type is { } type && type.StartsWith(DefaultBase, StringComparison.Ordinal))
                {
                    context.ProblemDetails.Type = typeBase + type[DefaultBase.Length..];
                }
            };
        });
    }

    /// <summary>GET /docs/errors: docs/errors.md (embedded at build) as HTML, each slug's heading carrying its anchor.</summary>
    public static IEndpointRouteBuilder MapProblemTypesPage(this IEndpointRouteBuilder app)
    {
        var html = new Lazy<string>(RenderPage);
        app.MapGet(PagePath, () => TypedResults.Content(html.Value, "text/html; charset=utf-8")).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>docs/errors.md as shipped in the broker.</summary>
    public static string Markdown()
    {
        using var stream = typeof(ProblemTypes).Assembly.GetManifestResourceStream("docs/errors.md")
            ?? throw new InvalidOperationException("docs/errors.md is not embedded in the broker.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static string RenderPage()
    {
        // GitHub-style heading ids: "## not-found" gets id="not-found", as on the repository's page.
        var pipeline = new MarkdownPipelineBuilder().UseAutoIdentifiers(Markdig.Extensions.AutoIdentifiers.AutoIdentifierOptions.GitHub).UsePipeTables().Build();
        return "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Xares broker errors</title></head><body>"
            + Markdig.Markdown.ToHtml(Markdown(), pipeline) + "</body></html>";
    }
}
