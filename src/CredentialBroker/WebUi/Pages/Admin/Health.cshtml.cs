using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;
using Xares.Broker.Users;

namespace Xares.Broker.WebUi.Pages.Admin;

/// <summary>Admin: credential health across every user; the failing credentials with owner, provider and last result (never a secret).</summary>
internal sealed class HealthModel(Database database, BrokerOptions options, TimeProvider time) : PageModel
{
    public CredentialHealthOverview Overview { get; private set; } = null!;

    public IReadOnlyDictionary<string, string> Owners { get; private set; } = new Dictionary<string, string>();

    public async Task OnGetAsync() =>
        (Overview, Owners) = await database.ReadAsync(c =>
        {
            var overview = CredentialHealthOverview.Read(c, time.GetUtcNow(), options.CredentialExpiringWindow);
            var owners = overview.Failing.Select(f => f.UserId).Distinct(StringComparer.Ordinal)
                .Select(id => UserStore.Find(c, null, id)).OfType<UserRecord>()
                .ToDictionary(u => u.Id, u => u.Email is null ? u.Name : $"{u.Name} <{u.Email}>", StringComparer.Ordinal);
            return (overview, (IReadOnlyDictionary<string, string>)owners);
        });
}
