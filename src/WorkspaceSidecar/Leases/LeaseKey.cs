using Xares.GitTargets;

namespace Xares.Sidecar.Leases;

/// <summary>What a git (or AI key) request asks for; equal keys may share a cached lease.</summary>
internal readonly record struct LeaseKey(string Protocol, string Host, string Path, string Username)
{
    /// <summary>
    /// The broker's canonical target (<see cref="GitRequestTarget"/>), so two requests share a
    /// lease only when the broker would read them as the same request; null when the broker would
    /// match nothing (then nothing is asked or cached). The username is compared exactly, as the broker does.
    /// </summary>
    public static LeaseKey? ForGit(string protocol, string host, string path, string username) =>
        GitRequestTarget.TryCreate(protocol, host, path, out var target)
            ? new LeaseKey(target.Scheme, $"{target.Host}:{target.Port}", string.Join('/', target.PathSegments), username)
            : null;

    /// <summary>
    /// An AI key: provider, the credential asked for (empty: the owner's default) and the mode it is
    /// audited under. The provider is folded in ASCII only and not trimmed: the key's provider is what
    /// is sent to the broker, which compares it ordinally, so no other spelling reaches a cached key.
    /// </summary>
    public static LeaseKey ForAi(string provider, string credentialId, string mode) =>
        new("ai", LowerAscii(provider), credentialId, mode);

    private static string LowerAscii(string value) =>
        string.Create(value.Length, value, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsAsciiLetterUpper(source[i]) ? (char)(source[i] | 0x20) : source[i];
            }
        });
}
