using Xares.Broker.Audit;
using Xares.Broker.Storage;
using Xares.Broker.Tests.Support;

namespace Xares.Broker.Tests.Audit;

/// <summary>Raises a flag about a user's workspace directly (as the detector would), for suites that need one to aim at.</summary>
internal static class AuditFlagsForTests
{
    public static Task<string> RaiseAsync(BrokerTestHost host, string userId, string workspaceId) =>
        host.Get<WriteQueue>().ExecuteAsync((c, t) =>
        {
            const string detail = "session.open from 203.0.113.7, an address this workspace was not seen from before";
            var record = host.Get<AuditChain>().AppendNow(c, t, new AuditEntry(AuditActions.AuditFlag, AuditOutcomes.Success)
            {
                Actor = "broker", UserId = userId, WorkspaceId = workspaceId, RemoteAddress = "203.0.113.7", Detail = $"{AuditFlagKinds.NewAddress}: {detail}",
            });
            var flag = new AuditFlag(record.Sequence, Xares.Broker.Security.OpaqueToken.NewId("flag_"), AuditFlagKinds.NewAddress, record.At, userId, workspaceId, null,
                "203.0.113.7", detail, null, null);
            AuditFlagStore.Insert(c, t, flag);
            return flag.Id;
        });
}
