namespace Xares.DevGitServer;

/// <summary>One request's authentication outcome, kept for tests to inspect (never the token).</summary>
internal sealed record AuthAttempt(DateTimeOffset At, string? Username, string Path, AuthOutcome Outcome)
{
    public bool Succeeded => Outcome == AuthOutcome.Granted;
}

internal enum AuthOutcome
{
    /// <summary>No or unparsable Basic credentials: answered 401.</summary>
    MissingCredentials,
    /// <summary>Unknown user or wrong token: answered 401.</summary>
    WrongCredentials,
    /// <summary>Right token, repository outside the account's path prefix (or the minted token's repositories): answered 403.</summary>
    OutsidePathPrefix,
    /// <summary>A minted token with contents "read" tried to push: answered 403.</summary>
    ReadOnly,
    Granted,
}
