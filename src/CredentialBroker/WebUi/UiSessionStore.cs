using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Xares.Broker.Api;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi;

/// <summary>
/// Server-side web UI sessions in ui_sessions, shared by every replica and surviving restarts: the
/// cookie carries only a random session id, the row is keyed by its SHA-256 and holds the ticket
/// protected with DataProtection (bound to that hash). Signing out deletes the row, so a copied
/// cookie is dead everywhere afterwards; every sign-in stores a new row under a new id (no session
/// fixation). The cookie handler renews (writes) only when its sliding expiry moves on.
/// </summary>
internal sealed class UiSessionStore(Database database, WriteQueue writes, IDataProtectionProvider protection, WebUiSettings settings, TimeProvider time) : ITicketStore
{
    private readonly IDataProtector _protector = protection.CreateProtector("Xares.Broker.WebUi.UiSessionStore.v1");

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var hash = Hash(id);
        var userId = ticket.Principal.FindFirstValue(CallerClaims.UserId)
            ?? throw new InvalidOperationException("A web UI session needs the signed-in user's id.");
        var now = time.GetUtcNow();
        var protectedTicket = Protect(hash, ticket);
        await writes.ExecuteAsync((c, t) => UiSessionRows.Insert(c, t, hash, userId, now, ExpiresAt(ticket, now), protectedTicket));
        return id;
    }

    public async Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        var hash = Hash(key);
        var now = time.GetUtcNow();
        var protectedTicket = Protect(hash, ticket);
        await writes.ExecuteAsync((c, t) => UiSessionRows.Renew(c, t, hash, now, ExpiresAt(ticket, now), protectedTicket));
    }

    public async Task<AuthenticationTicket?> RetrieveAsync(string key)
    {
        var hash = Hash(key);
        var row = await database.ReadAsync(c => UiSessionRows.Find(c, hash, time.GetUtcNow()));
        if (row is null)
        {
            return null;
        }
        try
        {
            return TicketSerializer.Default.Deserialize(Protector(hash).Unprotect(row.Ticket));
        }
        catch (CryptographicException)
        {
            return null; // protected under a key no longer held, or altered: the browser signs in again
        }
    }

    public Task RemoveAsync(string key)
    {
        var hash = Hash(key);
        return writes.ExecuteAsync((c, t) => UiSessionRows.Delete(c, t, hash));
    }

    internal static byte[] Hash(string id) => SHA256.HashData(Encoding.UTF8.GetBytes(id));

    private byte[] Protect(byte[] hash, AuthenticationTicket ticket) => Protector(hash).Protect(TicketSerializer.Default.Serialize(ticket));

    private IDataProtector Protector(byte[] hash) => _protector.CreateProtector(Convert.ToHexString(hash));

    private DateTimeOffset ExpiresAt(AuthenticationTicket ticket, DateTimeOffset now) => ticket.Properties.ExpiresUtc ?? now + settings.IdleTimeout;

    /// <summary>Points the UI cookie at the store (options are built after the container).</summary>
    internal sealed class Binder(UiSessionStore store) : Microsoft.Extensions.Options.IPostConfigureOptions<CookieAuthenticationOptions>
    {
        public void PostConfigure(string? name, CookieAuthenticationOptions options)
        {
            if (name == WebUiAuthentication.CookieScheme)
            {
                options.SessionStore = store;
            }
        }
    }
}
