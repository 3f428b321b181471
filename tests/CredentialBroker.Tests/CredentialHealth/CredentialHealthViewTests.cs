using Xares.Broker.CredentialHealth;
using Xares.Broker.Credentials;
using Xares.Broker.Vault;

namespace Xares.Broker.Tests.CredentialHealth;

public sealed class CredentialHealthViewTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-06-01T00:00:00Z");
    private static readonly TimeSpan Window = TimeSpan.FromDays(14);

    private static CredentialRecord Credential(DateTimeOffset? expiresAt = null, long version = 2) =>
        new("cred_1", "usr_1", "git", "github", null, "https://github.com", null, "x", version, new SealedSecret(1, [], []), "…abcd",
            expiresAt, Now, Now, 0, null);

    private static CredentialHealthRow Row(string status, long version = 2, DateTimeOffset? providerExpiry = null) =>
        new("cred_1", version, status, status == "failed" ? "rejected (HTTP 401)" : null, Now.AddHours(-1), null, providerExpiry);

    [Fact]
    public void Of_NoRow_Unchecked() => Assert.Equal("unchecked", CredentialHealthView.Of(Credential(), null, Now, Window).Status);

    [Fact]
    public void Of_RowOfAnOlderSecretVersion_Unchecked() =>
        Assert.Equal("unchecked", CredentialHealthView.Of(Credential(), Row("failed", version: 1), Now, Window).Status);

    [Fact]
    public void Of_Passed_Active() => Assert.Equal("active", CredentialHealthView.Of(Credential(), Row("ok"), Now, Window).Status);

    [Fact]
    public void Of_Failed_ErrorWithReason()
    {
        var view = CredentialHealthView.Of(Credential(), Row("failed"), Now, Window);
        Assert.Equal(("error", "rejected (HTTP 401)"), (view.Status, view.Reason));
    }

    [Fact]
    public void Of_ExpiresWithinWindow_Expiring() =>
        Assert.Equal("expiring", CredentialHealthView.Of(Credential(Now.AddDays(3)), Row("ok"), Now, Window).Status);

    [Fact]
    public void Of_ProviderReportedEarlierExpiry_Wins()
    {
        var view = CredentialHealthView.Of(Credential(Now.AddDays(300)), Row("ok", providerExpiry: Now.AddDays(2)), Now, Window);
        Assert.Equal(("expiring", Now.AddDays(2)), (view.Status, view.ExpiresAt));
    }

    [Fact]
    public void Of_Expired_ErrorEvenIfLastTestPassed() =>
        Assert.Equal("error", CredentialHealthView.Of(Credential(Now.AddDays(-1)), Row("ok"), Now, Window).Status);
}
