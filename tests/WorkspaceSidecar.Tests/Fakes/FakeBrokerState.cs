using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xares.Protos.Broker.V1;

namespace Xares.Sidecar.Tests.Fakes;

/// <summary>What the fake broker knows and counts; survives a stop/restart of its server.</summary>
internal sealed partial class FakeBrokerState
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _bootstrapTokens = [];
    private readonly HashSet<string> _supersededTokens = [];
    // Superseded token → the retry key of the refresh that superseded it.
    private readonly Dictionary<string, ByteString> _refreshKeys = [];
    private readonly Dictionary<string, (string CredentialId, string Username, string Secret)> _credentials = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _leaseCredentials = [];
    private readonly HashSet<string> _revokedLeases = [];
    private readonly List<RevocationEvent> _revocations = [];
    private TaskCompletionSource _changed = NewSignal();
    private CancellationTokenSource _streams = new();
    private int _leaseNumber;
    private int _sessionNumber;

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan LeaseLifetime { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>When set, GetGitCredential answers with this status (e.g. the broker's session rate limit).</summary>
    public Grpc.Core.Status? GitCredentialFailure { get; set; }
    public string WorkspaceId { get; } = "ws_fake";
    public List<GitTarget> Targets { get; } = [];

    public string? CurrentToken { get; private set; }
    public string? SessionId { get; private set; }
    public List<string> IssuedTokens { get; } = [];
    public int OpenSessionCalls { get; private set; }
    public int RefreshCalls { get; private set; }
    public int GetGitCredentialCalls { get; private set; }
    public int SupersededTokenPresentations { get; private set; }
    public List<string> Rejections { get; } = [];

    public List<ReportForeignHelperRequest> ForeignHelperReports { get; } = [];
    public List<string[]> ValidateCalls { get; } = [];
    public List<long> WatchOpens { get; } = [];
    public List<string> IssuedSecrets { get; } = [];
    public long Sequence { get { lock (_lock) { return _revocations.Count == 0 ? 0 : _revocations[^1].Sequence; } } }

    public CancellationToken StreamKill { get { lock (_lock) { return _streams.Token; } } }

    public string AddBootstrapToken()
    {
        var token = "xbt_" + Guid.NewGuid().ToString("N");
        lock (_lock)
        {
            _bootstrapTokens.Add(token);
        }
        return token;
    }

    public void AddCredential(string host, string credentialId, string username, string secret)
    {
        lock (_lock)
        {
            _credentials[host] = (credentialId, username, secret);
        }
    }

    public SessionGrant Open(string bootstrapToken)
    {
        lock (_lock)
        {
            OpenSessionCalls++;
            if (!_bootstrapTokens.Remove(bootstrapToken))
            {
                return null!;
            }
            SessionId = $"ses_{++_sessionNumber}";
            return Rotate();
        }
    }

    /// <summary>When set, the next refresh is committed but its reply lost (the caller sees Unavailable).</summary>
    public bool LoseNextRefreshReply { get; set; }

    /// <summary>The retry key of every refresh call, in order.</summary>
    public List<ByteString> RefreshKeys { get; } = [];

    /// <summary>
    /// Rotates the token like the broker: from the current token, or from a token a refresh with the
    /// same retry key superseded (a retry of a refresh whose reply was lost); anything else is a replay.
    /// </summary>
    public SessionGrant Refresh(string? token, ByteString retryKey)
    {
        SessionGrant grant;
        lock (_lock)
        {
            RefreshCalls++;
            RefreshKeys.Add(retryKey);
            var retry = token is not null && _refreshKeys.TryGetValue(token, out var key) && key == retryKey && !retryKey.IsEmpty;
            if (token is null || (token != CurrentToken && !retry))
            {
                if (token is not null && _supersededTokens.Contains(token))
                {
                    SupersededTokenPresentations++;
                    throw new RpcException(new Status(StatusCode.PermissionDenied, "superseded session token presented again"));
                }
                throw new RpcException(new Status(StatusCode.Unauthenticated, "session token not valid"));
            }
            if (!retry)
            {
                _refreshKeys[token] = retryKey;
            }
            grant = Rotate();
            if (LoseNextRefreshReply)
            {
                LoseNextRefreshReply = false;
                throw new RpcException(new Status(StatusCode.Unavailable, "the replica went away before replying"));
            }
        }
        return grant;
    }

    private SessionGrant Rotate()
    {
        if (CurrentToken is not null)
        {
            _supersededTokens.Add(CurrentToken);
        }
        CurrentToken = "xst_" + Guid.NewGuid().ToString("N");
        IssuedTokens.Add(CurrentToken);
        var now = DateTimeOffset.UtcNow;
        Pulse();
        return new SessionGrant
        {
            SessionToken = CurrentToken,
            SessionId = SessionId,
            WorkspaceId = WorkspaceId,
            TokenExpiresAt = Timestamp.FromDateTimeOffset(now + TokenLifetime),
            SessionExpiresAt = Timestamp.FromDateTimeOffset(now + TimeSpan.FromHours(24)),
            RevocationSequence = _revocations.Count == 0 ? 0 : _revocations[^1].Sequence,
        };
    }

    /// <summary>"ok", "superseded" or "unknown".</summary>
    public string CheckToken(string? token)
    {
        lock (_lock)
        {
            if (token is not null && token == CurrentToken)
            {
                return "ok";
            }
            if (token is not null && _supersededTokens.Contains(token))
            {
                SupersededTokenPresentations++;
                return "superseded";
            }
            return "unknown";
        }
    }

    public GitLease? Issue(GitCredentialRequest request)
    {
        lock (_lock)
        {
            GetGitCredentialCalls++;
            Pulse();
            if (!_credentials.TryGetValue(request.Host, out var credential))
            {
                return null;
            }
            var leaseId = $"lease_{++_leaseNumber}";
            var secret = $"{credential.Secret}-{_leaseNumber}";
            _leaseCredentials[leaseId] = credential.CredentialId;
            IssuedSecrets.Add(secret);
            return new GitLease
            {
                LeaseId = leaseId,
                CredentialId = credential.CredentialId,
                Username = credential.Username,
                Secret = secret,
                ExpiresAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow + LeaseLifetime),
                SecretVersion = 1,
            };
        }
    }

    public bool Reject(string leaseId)
    {
        lock (_lock)
        {
            var counted = !Rejections.Contains(leaseId);
            Rejections.Add(leaseId);
            Pulse();
            return counted;
        }
    }

    public ValidateLeasesReply Validate(IEnumerable<string> leaseIds)
    {
        lock (_lock)
        {
            var ids = leaseIds.ToArray();
            ValidateCalls.Add(ids);
            Pulse();
            var reply = new ValidateLeasesReply { RevocationSequence = _revocations.Count == 0 ? 0 : _revocations[^1].Sequence };
            reply.ValidLeaseIds.AddRange(ids.Where(id => _leaseCredentials.ContainsKey(id) && !_revokedLeases.Contains(id)));
            return reply;
        }
    }

    public void RecordWatch(long afterSequence)
    {
        lock (_lock)
        {
            WatchOpens.Add(afterSequence);
            Pulse();
        }
    }

    /// <summary>Appends a revocation to the durable log and wakes every open stream.</summary>
    public RevocationEvent Revoke(RevocationEvent.Types.Kind kind, string targetId)
    {
        lock (_lock)
        {
            if (kind == RevocationEvent.Types.Kind.Lease)
            {
                _revokedLeases.Add(targetId);
            }
            var revocation = new RevocationEvent { Sequence = Sequence + 1, Kind = kind, TargetId = targetId };
            _revocations.Add(revocation);
            Pulse();
            return revocation;
        }
    }

    /// <summary>Marks a lease revoked without a stream event: only ValidateLeases will tell.</summary>
    public void RevokeLeaseQuietly(string leaseId)
    {
        lock (_lock)
        {
            _revokedLeases.Add(leaseId);
        }
    }

    public (List<RevocationEvent> Events, Task Changed) RevocationsAfter(long sequence)
    {
        lock (_lock)
        {
            return (_revocations.Where(r => r.Sequence > sequence).ToList(), _changed.Task);
        }
    }

    /// <summary>Ends every open revocation stream (as a crashing broker would).</summary>
    public void KillStreams()
    {
        lock (_lock)
        {
            _streams.Cancel();
            _streams = new CancellationTokenSource();
        }
    }

    /// <summary>Waits, without sleeping, until a change to this state makes <paramref name="condition"/> true.</summary>
    public async Task WaitForAsync(Func<FakeBrokerState, bool> condition, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (condition(this))
                {
                    return;
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(deadline.Token);
        }
    }

    private void Pulse()
    {
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
