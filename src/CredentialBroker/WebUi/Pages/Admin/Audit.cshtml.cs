using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Audit;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.WebUi.Pages.Admin;

/// <summary>
/// Admin: verify the audit chain on request (as GET /api/v1/audit/verify: the chain and this
/// broker's checkpoint file), and the keyring's versions with the re-wrap progress of a rotation.
/// </summary>
internal sealed class AuditModel(Database database, AuditChain audit, Keyring keyring, BrokerOptions options, TimeProvider time) : PageModel
{
    public AuditVerification? Verification { get; private set; }

    public KeyRotationOverview Keys { get; private set; } = null!;

    public async Task OnGetAsync() => Keys = await ReadKeysAsync();

    /// <summary>A POST (not on every view): it reads the whole chain.</summary>
    public async Task OnPostVerifyAsync()
    {
        var checkpoints = AuditCheckpointFile.Read(options.Audit.CheckpointPath(options.DataDirectory), keyring);
        Verification = await database.ReadAsync(c => audit.Verify(c, checkpoints));
        Keys = await ReadKeysAsync();
    }

    private Task<KeyRotationOverview> ReadKeysAsync() => Task.Run(() =>
    {
        var (versions, unfinished, holder) = new KeyRotation(database, keyring, audit, time).Status();
        return KeyRotationOverview.From(versions, unfinished, holder, KeyRotation.RewrappedKinds);
    });
}
