namespace Xares.DevGitServer;

/// <summary>
/// An account the server accepts over HTTP Basic auth. <paramref name="PathPrefix"/> (for
/// example <c>org1/</c>) limits it to repositories under that folder; null means every repository.
/// </summary>
internal sealed record GitAccount(string Username, string Token, string? PathPrefix = null)
{
    // The generated record ToString would print the token; tests and logs must never see it.
    public override string ToString() => $"GitAccount {{ Username = {Username}, PathPrefix = {PathPrefix ?? "(any)"} }}";
}
