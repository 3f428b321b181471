using Xares.GitTargets;

namespace Xares.Broker.Credentials.Matching;

/// <summary>
/// Picks the git credential for a request (design §4 rule b): scheme, host and port exactly;
/// the candidate's path a whole-segment prefix of the request's; the username exactly when git
/// names one; then the longest path wins.
/// </summary>
/// <remarks>
/// Path segments compare ordinally (case-sensitive): folding case would be a guess about the
/// server, and a miss only means git falls through to its next helper. At the candidate's last
/// segment only, "repo" and "repo.git" are the same segment: forges serve one repository under
/// both names and refuse names ending in ".git", so a credential for
/// <c>https://host/org/repo</c> also serves <c>git clone https://host/org/repo.git</c>.
/// Ties keep the earliest candidate (callers pass them oldest first) and an exact last segment
/// beats one equal only through ".git", so the result never depends on hash or query order.
/// </remarks>
internal static class GitCredentialMatcher
{
    private const string GitSuffix = ".git";

    /// <param name="requestedUsername">git's <c>username=</c>; null or empty when git sent none.</param>
    public static T? FindBest<T>(
        IEnumerable<T> candidates,
        Func<T, GitDestination> destinationOf,
        Func<T, string> usernameOf,
        GitRequestTarget request,
        string? requestedUsername)
        where T : class
    {
        if (requestedUsername is not null && !ProtocolText.IsSafe(requestedUsername))
        {
            return null;
        }

        T? best = null;
        var bestScore = -1;
        foreach (var candidate in candidates)
        {
            var destination = destinationOf(candidate);
            if (destination.Scheme != request.Scheme
                || destination.Host != request.Host
                || destination.Port != request.Port
                || (!string.IsNullOrEmpty(requestedUsername) && usernameOf(candidate) != requestedUsername))
            {
                continue;
            }

            var score = PathScore(destination.PathSegments, request.PathSegments);
            if (score > bestScore)
            {
                best = candidate;
                bestScore = score;
            }
        }

        return best;
    }

    // -1 for no match; otherwise twice the matched segment count, one less when the last
    // segment matched only through ".git".
    private static int PathScore(IReadOnlyList<string> candidate, IReadOnlyList<string> request)
    {
        if (candidate.Count == 0)
        {
            return 0;
        }

        // Also covers a request without a path: only path-less candidates serve it.
        if (candidate.Count > request.Count)
        {
            return -1;
        }

        var last = candidate.Count - 1;
        for (var i = 0; i < last; i++)
        {
            if (candidate[i] != request[i])
            {
                return -1;
            }
        }

        if (candidate[last] == request[last])
        {
            return 2 * candidate.Count;
        }

        return WithoutGitSuffix(candidate[last]) == WithoutGitSuffix(request[last]) ? (2 * candidate.Count) - 1 : -1;
    }

    private static string WithoutGitSuffix(string segment) =>
        segment.Length > GitSuffix.Length && segment.EndsWith(GitSuffix, StringComparison.Ordinal)
            ? segment[..^GitSuffix.Length]
            : segment;
}
