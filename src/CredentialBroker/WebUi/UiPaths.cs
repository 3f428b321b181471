namespace Xares.Broker.WebUi;

internal static class UiPaths
{
    public const string Root = "/ui";
    public const string Home = "/ui/credentials";
    public const string Stylesheet = "/ui/ui.css";
    public const string Icon = "/ui/favicon.svg";

    public static bool IsUi(PathString path) => path.StartsWithSegments(Root, StringComparison.Ordinal);
}
