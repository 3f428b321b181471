using System.Security.Cryptography;
using System.Text;

namespace Xares.DevGitServer;

/// <summary>Decides whether a request's Basic credentials may reach a repository path.</summary>
internal sealed class AccountGate
{
    private readonly Lock gate = new();
    private List<GitAccount> accounts;

    public AccountGate(IEnumerable<GitAccount> accounts) => this.accounts = [.. accounts];

    public void Add(GitAccount account)
    {
        lock (gate)
        {
            accounts = [.. accounts, account];
        }
    }

    public (AuthOutcome Outcome, string? Username) Check(string? authorization, IReadOnlyList<string> pathSegments)
    {
        if (!TryParseBasic(authorization, out var username, out var token))
        {
            return (AuthOutcome.MissingCredentials, null);
        }

        List<GitAccount> snapshot;
        lock (gate)
        {
            snapshot = accounts;
        }

        var account = snapshot.FirstOrDefault(a => a.Username == username && TokensEqual(a.Token, token));
        if (account is null)
        {
            return (AuthOutcome.WrongCredentials, username);
        }

        return account.PathPrefix is null || RepositoryPath.StartsWith(pathSegments, RepositoryPath.SplitPrefix(account.PathPrefix))
            ? (AuthOutcome.Granted, username)
            : (AuthOutcome.OutsidePathPrefix, username);
    }

    public static bool TryParseBasic(string? header, out string username, out string token)
    {
        username = token = "";
        const string scheme = "Basic ";
        if (header is null || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[scheme.Length..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return false;
            }

            username = decoded[..colon];
            token = decoded[(colon + 1)..];
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    // Hashing first makes the comparison constant-time regardless of length.
    private static bool TokensEqual(string expected, string presented) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)),
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
}
