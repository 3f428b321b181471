using Google.Protobuf.WellKnownTypes;
using Xares.Protos.Broker.V1;

namespace Xares.Sidecar.Tests.Fakes;

/// <summary>A fake AI credential: its secret may be rotated and a monthly limit set.</summary>
internal sealed class FakeAiCredential(string id, string provider, string secret, string baseUrl)
{
    public string Id { get; } = id;
    public string Provider { get; } = provider;
    public string Secret { get; set; } = secret;
    public string BaseUrl { get; set; } = baseUrl;
    public long Version { get; set; } = 1;
    public long? MonthlyLimit { get; set; }
    public long Uses { get; set; }
    /// <summary>delivery "proxy": inject-mode requests are refused.</summary>
    public bool ProxyOnly { get; set; }
    public bool LimitReached => MonthlyLimit is { } limit && Uses >= limit;
}

/// <summary>
/// The AI half of the fake broker (ListAiCredentials, GetAiCredential, ReportAiUsage, DrawAiRequests):
/// proxy-mode requests are counted when granted, as the broker does (a first block with the lease).
/// </summary>
internal sealed partial class FakeBrokerState
{
    private readonly List<FakeAiCredential> _aiCredentials = [];

    public int GetAiCredentialCalls { get; private set; }
    public List<AiCredentialRequest> AiRequests { get; } = [];
    public List<ReportAiUsageRequest> UsageReports { get; } = [];
    public List<DrawAiRequestsRequest> Draws { get; } = [];
    /// <summary>Requests granted with a new proxy-mode lease.</summary>
    public long FirstBlock { get; set; } = 32;

    public FakeAiCredential AddAiCredential(string id, string provider, string secret, string baseUrl = "")
    {
        var credential = new FakeAiCredential(id, provider, secret, baseUrl);
        lock (_lock)
        {
            _aiCredentials.Add(credential);
        }
        return credential;
    }

    /// <summary>Rotates the secret and tells every sidecar (KIND_CREDENTIAL), as the broker does on PATCH.</summary>
    public void RotateAi(FakeAiCredential credential, string newSecret)
    {
        lock (_lock)
        {
            credential.Secret = newSecret;
            credential.Version++;
        }
        Revoke(RevocationEvent.Types.Kind.Credential, credential.Id);
    }

    public ListAiCredentialsReply ListAi()
    {
        lock (_lock)
        {
            var reply = new ListAiCredentialsReply();
            reply.Credentials.AddRange(_aiCredentials.Select(c => new AiCredentialInfo
            {
                CredentialId = c.Id, Provider = c.Provider, Name = c.Id, BaseUrl = c.BaseUrl, LimitReached = c.LimitReached,
            }));
            return reply;
        }
    }

    public AiCredentialReply IssueAi(AiCredentialRequest request)
    {
        lock (_lock)
        {
            GetAiCredentialCalls++;
            AiRequests.Add(request);
            Pulse();
            var credential = _aiCredentials.FirstOrDefault(c =>
                c.Provider == request.Provider && (request.CredentialId.Length == 0 || c.Id == request.CredentialId));
            if (credential is null)
            {
                return new AiCredentialReply { NoMatch = new NoMatch() };
            }
            if (credential.ProxyOnly && request.Mode == "inject")
            {
                return new AiCredentialReply { ProxyOnly = new ProxyOnly { CredentialId = credential.Id } };
            }
            if (credential.LimitReached)
            {
                return new AiCredentialReply
                {
                    LimitReached = new LimitReached { CredentialId = credential.Id, MonthlyLimit = credential.MonthlyLimit ?? 0, UsesThisMonth = credential.Uses },
                };
            }
            var granted = request.Mode == "proxy" ? Grant(credential, FirstBlock) : 0;
            if (request.Mode != "proxy")
            {
                credential.Uses++;
            }
            var leaseId = $"lease_{++_leaseNumber}";
            _leaseCredentials[leaseId] = credential.Id;
            IssuedSecrets.Add(credential.Secret);
            return new AiCredentialReply
            {
                Lease = new AiLease
                {
                    LeaseId = leaseId,
                    CredentialId = credential.Id,
                    Provider = credential.Provider,
                    Secret = credential.Secret,
                    BaseUrl = credential.BaseUrl,
                    ExpiresAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow + LeaseLifetime),
                    SecretVersion = credential.Version,
                    GrantedRequests = granted,
                },
            };
        }
    }

    /// <summary>Takes returned allowance off the count (reported requests were counted when granted); true when the limit is reached.</summary>
    public bool RecordUsage(ReportAiUsageRequest request)
    {
        lock (_lock)
        {
            UsageReports.Add(request);
            Pulse();
            if (!_leaseCredentials.TryGetValue(request.LeaseId, out var credentialId))
            {
                return false;
            }
            var credential = _aiCredentials.First(c => c.Id == credentialId);
            credential.Uses -= request.ReturnedRequests;
            return credential.LimitReached;
        }
    }

    public DrawAiRequestsReply DrawAi(DrawAiRequestsRequest request)
    {
        lock (_lock)
        {
            Draws.Add(request);
            Pulse();
            if (!_leaseCredentials.TryGetValue(request.LeaseId, out var credentialId) || _aiCredentials.FirstOrDefault(c => c.Id == credentialId) is not { } credential)
            {
                return new DrawAiRequestsReply { LeaseEnded = true };
            }
            var granted = Grant(credential, request.Requests);
            return new DrawAiRequestsReply
            {
                Granted = granted, CredentialId = credential.Id, LimitReached = credential.LimitReached, MonthlyLimit = credential.MonthlyLimit ?? 0,
                UsesThisMonth = credential.Uses,
            };
        }
    }

    private static long Grant(FakeAiCredential credential, long wanted)
    {
        var granted = credential.MonthlyLimit is { } limit ? Math.Clamp(limit - credential.Uses, 0, wanted) : wanted;
        credential.Uses += granted;
        return granted;
    }
}
