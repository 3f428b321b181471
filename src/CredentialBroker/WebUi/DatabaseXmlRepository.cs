using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Xares.Broker.Storage;
using Xares.Broker.Vault;

namespace Xares.Broker.WebUi;

/// <summary>
/// The DataProtection key ring in data_protection_keys, so every replica protects and unprotects
/// the UI's cookies, anti-forgery tokens and sessions with the same keys, across restarts. Each
/// element is sealed whole with the vault, bound to its row id: DataProtection's own
/// IXmlEncryptor sees only the master key element and never the key's id, so the sealing is here,
/// where the id is known, and an element moved to another row, or altered, fails to open. Key
/// rotation re-wraps these rows like every other sealed table.
/// </summary>
internal sealed class DatabaseXmlRepository(Database database, WriteQueue writes, Keyring keyring, TimeProvider time) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        var rows = database.ReadAsync(c => Sql.Query(c, null, "SELECT id, kek_version, wrapped_dek, ciphertext FROM data_protection_keys ORDER BY created_at, id",
            r => (Id: r.GetString(0), Sealed: new SealedSecret(Convert.ToInt32(r.GetValue(1), System.Globalization.CultureInfo.InvariantCulture), (byte[])r.GetValue(2), (byte[])r.GetValue(3)))))
            .GetAwaiter().GetResult();
        return [.. rows.Select(row => Open(row.Id, row.Sealed))];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        var id = string.IsNullOrEmpty(friendlyName) ? "element-" + Guid.NewGuid().ToString("N") : friendlyName;
        var sealedElement = Seal(id, element);
        writes.ExecuteAsync((c, t) => Sql.Execute(c, t, """
            INSERT INTO data_protection_keys (id, created_at, kek_version, wrapped_dek, ciphertext) VALUES (@id, @now, @kv, @w, @c)
            """, ("@id", id), ("@now", time.GetUtcNow().ToDb()), ("@kv", sealedElement.KekVersion), ("@w", sealedElement.WrappedDataKey), ("@c", sealedElement.Ciphertext)))
            .GetAwaiter().GetResult();
    }

    /// <summary>What a row's sealed element is bound to: its id.</summary>
    public static SecretContext ContextFor(string id) => new(id, "", 1, "data-protection-key", "", "", "");

    internal SealedSecret Seal(string id, XElement element) =>
        keyring.Seal(Encoding.UTF8.GetBytes(element.ToString(SaveOptions.DisableFormatting)), ContextFor(id));

    /// <exception cref="SecretIntegrityException">The row was altered, or belongs to another id.</exception>
    internal XElement Open(string id, SealedSecret sealedElement)
    {
        var element = XElement.Parse(Encoding.UTF8.GetString(keyring.Open(sealedElement, ContextFor(id))));
        // A key's element carries its own id: the row must be the one it was stored under.
        if (element.Name.LocalName == "key" && "key-" + (string?)element.Attribute("id") != id)
        {
            throw new SecretIntegrityException();
        }
        return element;
    }

    /// <summary>For key rotation: the sealed element of row <paramref name="id"/>.</summary>
    internal static (SealedSecret Sealed, SecretContext Context)? Find(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction t, string id) =>
        Sql.Single(c, t, "SELECT kek_version, wrapped_dek, ciphertext FROM data_protection_keys WHERE id = @id",
            r => new SealedSecret(Convert.ToInt32(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), (byte[])r.GetValue(1), (byte[])r.GetValue(2)),
            ("@id", id)) is { } found ? (found, ContextFor(id)) : null;
}
