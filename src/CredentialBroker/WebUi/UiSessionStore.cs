using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Caching.Memory;

namespace Xares.Broker.WebUi;

/// <summary>
/// Server-side web UI sessions: the cookie carries only a random session id, the signed-in
/// identity stays here. Signing out removes the entry, so a copied cookie is dead afterwards;
/// every sign-in stores a new entry under a new id (no session fixation). Sessions live in this
/// process: a restart, or another replica, asks the browser to sign in again.
/// </summary>
internal sealed class UiSessionStore(TimeProvider time) : ITicketStore, IDisposable
{
    private readonly MemoryCache _sessions = new(new MemoryCacheOptions { Clock = new TimeProviderClock(time) });

    public int Count => _sessions.Count;

    public Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Put(id, ticket);
        return Task.FromResult(id);
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        // Only a session still held is renewed: one signed out (removed) stays ended.
        if (_sessions.TryGetValue(key, out _))
        {
            Put(key, ticket);
        }
        return Task.CompletedTask;
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => Task.FromResult(_sessions.Get<AuthenticationTicket>(key));

    public Task RemoveAsync(string key)
    {
        _sessions.Remove(key);
        return Task.CompletedTask;
    }

    public void Dispose() => _sessions.Dispose();

    private void Put(string key, AuthenticationTicket ticket)
    {
        var entry = new MemoryCacheEntryOptions();
        if (ticket.Properties.ExpiresUtc is { } expires)
        {
            entry.AbsoluteExpiration = expires;
        }
        _sessions.Set(key, ticket, entry);
    }

#pragma warning disable CS0618 // ISystemClock is what MemoryCacheOptions.Clock takes
    private sealed class TimeProviderClock(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
#pragma warning restore CS0618

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
